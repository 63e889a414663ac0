"""The field-by-field merge of conflicting session headers (`api/sessions/merge.py`)."""

from __future__ import annotations

import orjson
from hypothesis import given, strategies as st

from api.sessions.merge import EDITABLE, apply_edit, initial_marks, merge_headers, rev_key

BASE = {
    "_id": "session:01JD3Z8Q6V9R1W0K2M4N5P7S8T",
    "type": "session",
    "schema_version": 1,
    "tree_id": "tree:citrix-vda-registration",
    "tree_version": 3,
    "owner_id": "u1",
    "created_at": 1795651200000,
    "device_id": "dev-a",
}


def canon(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def test_latest_edit_wins_per_field_and_losers_go_to_history():
    a = {
        **BASE,
        "_rev": "2-aaa",
        "ticket": "T-1",
        "title": "VDA down",
        "edited": {"ticket": 100, "title": 300},
        "updated_at": 300,
    }
    b = {
        **BASE,
        "_rev": "2-bbb",
        "ticket": "T-2",
        "title": "VDA 07 down",
        "edited": {"ticket": 200, "title": 250},
        "updated_at": 200,
    }
    merged = merge_headers([a, b])
    assert merged["ticket"] == "T-2" and merged["title"] == "VDA down"
    assert merged["edited"] == {"ticket": 200, "title": 300}
    assert merged["updated_at"] == 300
    assert {(h["field"], h["value"], h["rev"]) for h in merged["history"]} == {
        ("ticket", "T-1", "2-aaa"),
        ("title", "VDA 07 down", "2-bbb"),
    }
    assert "_rev" not in merged and merged["_id"] == BASE["_id"]


def test_tie_goes_to_the_higher_revision():
    a = {**BASE, "_rev": "3-aaa", "ticket": "A", "edited": {"ticket": 100}}
    b = {**BASE, "_rev": "3-bbb", "ticket": "B", "edited": {"ticket": 100}}
    c = {**BASE, "_rev": "2-zzz", "ticket": "C", "edited": {"ticket": 100}}
    assert merge_headers([a, b, c])["ticket"] == "B"
    assert rev_key("10-a") > rev_key("9-z")


def test_equal_values_are_not_losses():
    a = {**BASE, "_rev": "2-a", "ticket": "same", "edited": {"ticket": 1}}
    b = {**BASE, "_rev": "2-b", "ticket": "same", "edited": {"ticket": 2}}
    assert merge_headers([a, b])["history"] == []


def test_merging_a_merged_header_again_changes_nothing():
    a = {
        **BASE,
        "_rev": "2-a",
        "ticket": "A",
        "shared_with": ["u2"],
        "edited": {"ticket": 5, "shared_with": 9},
    }
    b = {**BASE, "_rev": "2-b", "ticket": "B", "shared_with": [], "edited": {"ticket": 7, "shared_with": 3}}
    once = merge_headers([a, b])
    twice = merge_headers([{**once, "_rev": "3-c"}])
    assert canon(once) == canon(twice)


def test_issue_14_a_marker_moved_without_a_change_does_not_win():
    """Phone A changes the ticket; phone B saves only a new title with a writer that stamps
    every field it carries (the PWA before the fix). A's ticket and B's title both survive."""
    start = {
        **BASE,
        "_rev": "1-p",
        "ticket": "T-OLD",
        "title": "Printer",
        **initial_marks(100, {"ticket": "T-OLD", "title": "Printer"}),
    }
    a = {**apply_edit(start, {"ticket": "T-NEW", "title": "Printer"}, 200), "_rev": "2-a"}
    b = {
        **start,
        "_rev": "2-b",
        "title": "PRN-02 offline",
        "updated_at": 300,
        "edited": {"ticket": 300, "title": 300},
        "edited_values": start["edited_values"],
    }
    b["edited_values"] = {**b["edited_values"], "title": {"at": 300, "value": "PRN-02 offline"}}
    legacy_b = {**b, "edited_values": {**start["edited_values"]}}  # the title changed without a record
    for other in (b, legacy_b):
        merged = merge_headers([a, other])
        assert (merged["ticket"], merged["title"]) == ("T-NEW", "PRN-02 offline")
        assert merged["edited"] == {"ticket": 200, "title": 300}
        assert merged["edited_values"]["ticket"] == {"at": 200, "value": "T-NEW"}
        assert [(h["field"], h["value"]) for h in merged["history"]] == [
            ("ticket", "T-OLD"),
            ("title", "Printer"),
        ]


def test_a_real_change_without_a_record_still_wins_by_its_marker():
    """A writer that keeps no records but really changed the value: its marker counts."""
    start = {**BASE, "_rev": "1-p", "ticket": "T-OLD", **initial_marks(100, {"ticket": "T-OLD"})}
    a = {**apply_edit(start, {"ticket": "T-A"}, 200), "_rev": "2-a"}
    b = {**start, "_rev": "2-b", "ticket": "T-B", "edited": {"ticket": 300}}
    assert merge_headers([a, b])["ticket"] == "T-B"
    assert merge_headers([b, a])["edited_values"]["ticket"] == {"at": 300, "value": "T-B"}


def test_apply_edit_moves_only_the_markers_of_changed_fields():
    start = {
        **BASE,
        "ticket": "T-1",
        "title": "t",
        "updated_at": 100,
        **initial_marks(100, {"ticket": "T-1", "title": "t"}),
    }
    assert apply_edit(start, {"ticket": "T-1", "title": "t"}, 500) is None
    out = apply_edit(start, {"ticket": "T-1", "title": "new"}, 500)
    assert out["edited"] == {"ticket": 100, "title": 500} and out["updated_at"] == 500
    assert out["edited_values"] == {
        "ticket": {"at": 100, "value": "T-1"},
        "title": {"at": 500, "value": "new"},
    }
    assert start["edited"] == {"ticket": 100, "title": 100}  # the input is left as it was


# --- properties ----------------------------------------------------------------------------------

values = st.one_of(st.none(), st.text(max_size=6), st.lists(st.sampled_from(["u1", "u2", "u3"]), max_size=3))
times = st.one_of(st.none(), st.integers(min_value=0, max_value=50))


@st.composite
def revision(draw, n):
    doc = {
        **BASE,
        "_rev": f"{draw(st.integers(1, 4))}-{n:02d}{draw(st.text('abcdef', min_size=1, max_size=3))}",
    }
    edited = {}
    for field in EDITABLE:
        if draw(st.booleans()):
            doc[field] = draw(values)
            t = draw(times)
            if t is not None:
                edited[field] = t
    doc["edited"] = edited
    if draw(st.booleans()):
        doc["history"] = [
            {
                "field": "title",
                "value": draw(st.text(max_size=4)),
                "edited": draw(st.integers(0, 9)),
                "rev": "1-x",
            }
        ]
    doc["updated_at"] = draw(st.integers(0, 100))
    return doc


revisions = st.integers(1, 4).flatmap(lambda k: st.tuples(*[revision(i) for i in range(k)]).map(list))


@st.composite
def recorded_revision(draw, n):
    """A revision whose fields may carry `edited_values` records: matching their value (a
    re-stamped or a recorded edit) or not (changed by a writer that keeps no records)."""
    doc = draw(revision(n))
    records = {}
    for field in EDITABLE:
        if field in doc and draw(st.booleans()):
            value = doc[field] if draw(st.booleans()) else draw(values)
            records[field] = {"at": draw(st.integers(min_value=0, max_value=50)), "value": value}
    doc["edited_values"] = records
    return doc


recorded_revisions = st.integers(1, 4).flatmap(
    lambda k: st.tuples(*[recorded_revision(i) for i in range(k)]).map(list)
)


@given(st.one_of(revisions, recorded_revisions), st.randoms(use_true_random=False))
def test_merge_is_commutative(revs, rnd):
    shuffled = list(revs)
    rnd.shuffle(shuffled)
    assert canon(merge_headers(revs)) == canon(merge_headers(shuffled))


@given(st.one_of(revisions, recorded_revisions))
def test_no_value_is_lost(revs):
    merged = merge_headers(revs)
    history = {(h["field"], canon(h["value"]), h["rev"]) for h in merged["history"]}
    for doc in revs:
        for field in EDITABLE:
            if field not in doc:
                continue
            if canon(doc[field]) == canon(merged[field]):
                continue
            assert (field, canon(doc[field]), doc["_rev"]) in history, (field, doc)
        for old in doc.get("history", []):
            assert old in merged["history"]


@given(revisions)
def test_the_winner_has_the_latest_edit(revs):
    merged = merge_headers(revs)
    for field in EDITABLE:
        present = [d for d in revs if field in d]
        if not present:
            assert field not in merged
            continue
        latest = max(d["edited"].get(field, -1) for d in present)
        holders = [d for d in present if d["edited"].get(field, -1) == latest]
        assert any(canon(d[field]) == canon(merged[field]) for d in holders)


@given(recorded_revisions, st.text(max_size=4), st.integers(0, 40), st.integers(1, 20))
def test_a_re_stamped_field_never_beats_a_later_real_edit(revs, value, recorded_at, later):
    """Issue 14 as a property: a revision whose ticket still holds the value recorded at
    `recorded_at` (however late its marker) loses the ticket to any revision that really
    edited it after `recorded_at`."""
    stale = {
        **revs[0],
        "_rev": "9-stale",
        "ticket": "T-STALE",
        "edited": {**revs[0]["edited"], "ticket": 99},
        "edited_values": {**revs[0]["edited_values"], "ticket": {"at": recorded_at, "value": "T-STALE"}},
    }
    real = {
        **BASE,
        "_rev": "2-real",
        "ticket": value,
        "edited": {"ticket": recorded_at + later},
        "edited_values": {"ticket": {"at": recorded_at + later, "value": value}},
    }
    others = [d for d in revs[1:] if "ticket" not in d]
    merged = merge_headers([stale, real, *others])
    assert merged["ticket"] == value
    assert merge_headers([{**merged, "_rev": "10-m"}]) == merged


# --- the feed follower, on a real embedded store ------------------------------------------------


def test_feed_follower_merges_once_and_is_idempotent(tmp_path):
    from api.sessions.header_merge import HeaderMerger
    from sync.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path)
    try:
        name = "t_abcdef123_sessions"
        db = store.create_db(name)
        docid = BASE["_id"]
        first = db.put({**BASE, "ticket": None, "edited": {"ticket": 1}})
        digest = first["rev"].split("-")[1]
        leaves = [
            {
                **BASE,
                "_rev": f"2-{c * 32}",
                "ticket": t,
                "edited": {"ticket": e},
                "_revisions": {"start": 2, "ids": [c * 32, digest]},
            }
            for c, t, e in (("a", "T-A", 5), ("b", "T-B", 3))
        ]
        db.bulk_docs(leaves, new_edits=False)
        db.put({"_id": f"session:{BASE['_id'][8:]}:ev:01", "type": "note"})  # events are skipped
        merger = HeaderMerger(store)
        assert merger.process(name) == 1
        doc = db.get(docid, conflicts=True)
        assert "_conflicts" not in doc and doc["ticket"] == "T-A"
        assert [(h["field"], h["value"]) for h in doc["history"]] == [("ticket", "T-B")]
        rev = doc["_rev"]
        assert merger.process(name) == 0  # its own write is in the feed now; nothing left to do
        merger.seqs.clear()
        assert merger.process(name) == 0  # a full replay finds nothing either
        assert db.get(docid)["_rev"] == rev
    finally:
        store.close()


def test_a_conflict_replicated_in_after_the_first_catch_up_is_merged_from_the_commit_alone(tmp_path):
    """The merger follows the store's commits by id: after its first read of the feed it
    checks only the headers a commit wrote, and a conflict arriving later is still merged."""
    from api.sessions.header_merge import HeaderMerger
    from sync.embedded import EmbeddedStore
    from tests.conftest import wait_until

    store = EmbeddedStore(tmp_path)
    merger = HeaderMerger(store).attach()
    merger.start()
    try:
        assert merger.observing
        name = "t_abcdef123_sessions"
        db = store.create_db(name)
        docid = BASE["_id"]
        first = db.put({**BASE, "ticket": None, "edited": {"ticket": 1}})
        wait_until(lambda: name in merger.seqs, message="the first read of the feed")
        db.put({"_id": f"session:{BASE['_id'][8:]}:ev:01", "type": "note"})
        digest = first["rev"].split("-")[1]
        db.bulk_docs(
            [
                {
                    **BASE,
                    "_rev": f"2-{c * 32}",
                    "ticket": t,
                    "edited": {"ticket": e},
                    "_revisions": {"start": 2, "ids": [c * 32, digest]},
                }
                for c, t, e in (("a", "T-A", 5), ("b", "T-B", 3))
            ],
            new_edits=False,
        )
        wait_until(lambda: "_conflicts" not in db.get(docid, conflicts=True), message="the merge")
        assert db.get(docid)["ticket"] == "T-A"
    finally:
        merger.stop()
        store.close()
