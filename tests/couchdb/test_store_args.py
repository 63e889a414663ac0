"""Both store backends refuse the same bad arguments with the same CouchDB error
(`sync/store_args.py`), whichever backend a tenant runs on."""

from __future__ import annotations

import secrets

import pytest

from sync.embedded import EmbeddedStore
from sync.errors import BranchlineError

BAD_CALLS = {
    "revs_limit zero": lambda db: db.set_revs_limit(0),
    "revs_limit text": lambda db: db.set_revs_limit("5"),
    "open_revs neither all nor a list": lambda db: db.get_open_revs("a", "1-x"),
    "bulk_get not a list": lambda db: db.bulk_get({"id": "a"}),
    "bulk_docs not a list": lambda db: db.bulk_docs({"_id": "a"}),
    "revs_diff not an object": lambda db: db.revs_diff(["1-x"]),
    "all_docs negative limit": lambda db: db.all_docs(limit=-1),
    "all_docs negative skip": lambda db: db.all_docs(skip=-2),
    "all_docs keys not a list": lambda db: db.all_docs(keys="a"),
    "changes bad style": lambda db: db.changes(style="winners"),
    "changes negative limit": lambda db: db.changes(limit=-1),
    "changes doc_ids a string": lambda db: db.changes(doc_ids="a"),
}


def _refusal(call, db) -> tuple[int, str, str]:
    with pytest.raises(BranchlineError) as refused:
        call(db)
    return refused.value.status, refused.value.error, refused.value.reason


@pytest.fixture
def both(couch_store, tmp_path):
    name = f"t_{secrets.token_hex(4)}_clients"
    embedded = EmbeddedStore(tmp_path)
    try:
        yield embedded.create_db(name), couch_store.create_db(name)
    finally:
        embedded.close()
        couch_store.delete_db(name)


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_both_backends_refuse_a_bad_argument_the_same_way(both, case):
    embedded_db, couch_db = both
    refused = _refusal(BAD_CALLS[case], embedded_db)
    assert refused[0] == 400 and refused[1] == "bad_request", refused
    assert _refusal(BAD_CALLS[case], couch_db) == refused
