"""Per-document access in the sync endpoints, judged by the real PouchDB client.

Each test registers a fresh tenant on the module's real server and drives a script from
tests/node (session_*.js) with the users' bearer tokens.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from api.sessions.ids import ulid
from tests.conftest import wait_until

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def run_node(script: str, args: dict, timeout: float = 120) -> dict:
    """`node tests/node/<script> '<json>'`; its last stdout line is the JSON result."""
    if shutil.which("node") is None or not (NODE_DIR / "node_modules").is_dir():
        pytest.fail("node and tests/node/node_modules are needed: run `npm ci --prefix tests/node`")
    proc = subprocess.run(
        ["node", str(NODE_DIR / script), json.dumps(args)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"node {script} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def who(member) -> dict:
    return {"id": member.id, "token": member.tokens["access_token"]}


def sessions_url(server, tenant) -> str:
    return f"{server.url}/sync/{tenant.id}/sessions"


def test_unshared_sessions_never_reach_another_engineer_and_a_late_share_brings_old_events(server, tenant):
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid_a, sid_b = ulid(), ulid()
    out = run_node(
        "session_share.js",
        {
            "url": sessions_url(server, tenant),
            "alice": who(alice),
            "bob": who(bob),
            "sid_a": sid_a,
            "sid_b": sid_b,
            "tree_id": "tree:x",
            "now": int(time.time() * 1000),
        },
    )
    assert out["alice_push1"] == {"ok": True, "written": 4, "failures": 0}
    # Bob's first pull: only his own session, nothing of Alice's.
    assert out["bob_after_first_pull"] == sorted([f"session:{sid_b}", f"session:{sid_b}:ev:{'1'.zfill(26)}"])
    assert out["alice_push2"]["failures"] == 0
    # After the share: the header and every event, although the events' seqs are older
    # than Bob's checkpoint.
    alice_ids = {f"session:{sid_a}"} | {f"session:{sid_a}:ev:{str(n).zfill(26)}" for n in (1, 2, 3)}
    assert alice_ids <= set(out["bob_after_share"])
    assert out["bob_push2"] == {"ok": True, "written": 1, "failures": 0}
    assert f"session:{sid_a}:ev:{'4'.zfill(26)}" in out["alice_final"]
    assert not any(i.startswith(f"session:{sid_b}") for i in out["alice_final"])


def test_forbidden_writes_in_a_batch_are_refused_and_the_rest_accepted(server, tenant):
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid_a, sid_b, sid_c = ulid(), ulid(), ulid()
    owner = {"id": tenant.me["user"]["id"], "token": tenant.tokens["access_token"]}
    out = run_node(
        "session_forbidden.js",
        {
            "url": sessions_url(server, tenant),
            "owner": owner,
            "alice": who(alice),
            "bob": who(bob),
            "sid_a": sid_a,
            "sid_b": sid_b,
            "sid_c": sid_c,
            "tree_id": "tree:x",
            "now": int(time.time() * 1000),
        },
    )
    assert out["raw_status"] == 201
    results = out["raw"]
    assert [r.get("error") for r in results] == [
        None,
        None,
        "forbidden",
        "forbidden",
        "forbidden",
        "forbidden",
        None,
    ]
    assert "user_id must be your own" in results[2]["reason"]
    assert "owner_id must be your own" in results[3]["reason"]
    assert "not shared with you" in results[4]["reason"]
    assert "never edited" in results[5]["reason"]
    ev = lambda sid, n: f"session:{sid}:ev:{str(n).zfill(26)}"  # noqa: E731
    server_ids = set(out["server_ids"])
    assert {f"session:{sid_b}", ev(sid_b, 1), ev(sid_b, 3), ev(sid_b, 10), ev(sid_b, 12)} <= server_ids
    assert not {ev(sid_b, 2), f"session:{sid_c}", ev(sid_a, 2), ev(sid_b, 11)} & server_ids
    # the replicator saw one refusal and wrote the other two
    assert out["push"]["written"] == 2 and out["push"]["failures"] == 1
    assert out["tree_status"] == 403 and out["tree_body"]["error"] == "forbidden"


def test_viewer_writes_nothing_and_only_authors_write_tree_drafts(server, http, tenant):
    viewer, engineer, author = (
        tenant.add_user("viewer"),
        tenant.add_user("engineer"),
        tenant.add_user("author"),
    )
    base = f"/sync/{tenant.id}"
    r = http.put(
        f"{base}/sessions/session:{ulid()}",
        headers=viewer.headers,
        json={"type": "session", "owner_id": viewer.id},
    )
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = http.put(f"{base}/trees/tree:eng-draft", headers=engineer.headers, json={"type": "tree"})
    assert r.status_code == 403
    r = http.put(
        f"{base}/trees/tree:author-draft", headers=author.headers, json={"type": "tree", "title": "x"}
    )
    assert r.status_code == 201, r.text
    for docid in ("treever:author-draft:1", "treemeta:author-draft", "treestarter:author-draft"):
        r = http.put(f"{base}/trees/{docid}", headers=tenant.headers, json={"type": "x"})
        assert r.status_code == 403, (docid, r.text)
    r = http.put(
        f"{base}/clients/client:acme", headers=engineer.headers, json={"type": "client", "name": "Acme"}
    )
    assert r.status_code == 201
    r = http.put(
        f"{base}/clients/client:acme2", headers=viewer.headers, json={"type": "client", "name": "Acme"}
    )
    assert r.status_code == 403


def test_only_the_owner_changes_sharing_over_sync(server, http, tenant):
    alice, bob, carol = (tenant.add_user("engineer") for _ in range(3))
    sid = ulid()
    url = f"/sync/{tenant.id}/sessions/session:{sid}"
    doc = {"type": "session", "owner_id": alice.id, "shared_with": [bob.id], "title": "a"}
    r = http.put(url, headers=alice.headers, json=doc)
    assert r.status_code == 201, r.text
    rev = r.json()["rev"]
    r = http.put(url, headers=bob.headers, json={**doc, "_rev": rev, "shared_with": [bob.id, carol.id]})
    assert r.status_code == 403 and "owner" in r.json()["reason"]
    r = http.put(url, headers=bob.headers, json={**doc, "_rev": rev, "title": "bob's title"})
    assert r.status_code == 201, r.text
    assert http.get(url, headers=carol.headers).status_code in (403, 404)
    assert http.get(url, headers=bob.headers).status_code == 200


def test_two_devices_edit_a_header_offline_and_every_replica_ends_merged(server, tenant):
    alice = tenant.add_user("engineer")
    sid, now = ulid(), int(time.time() * 1000)
    out = run_node(
        "session_header_merge.js",
        {
            "url": sessions_url(server, tenant),
            "alice": who(alice),
            "sid": sid,
            "tree_id": "tree:x",
            "now": now,
        },
    )
    for name in ("phone", "laptop", "server"):
        replica = out[name]
        assert replica["conflicts"] == [], (name, replica)
        assert replica["ticket"] == "T-PHONE" and replica["title"] == "VDA 07 unregistered", (name, replica)
        assert replica["rev"] == out["server"]["rev"]
        assert {"field": "ticket", "value": "T-LAPTOP"}.items() <= next(
            h for h in replica["history"] if h["field"] == "ticket"
        ).items()


@pytest.fixture(scope="module")
def header_writer(tmp_path_factory) -> Path:
    """The PWA's header writer (pwa/src/data/headerEdits.ts) bundled for Node's require."""
    from tests.ts_runner import ROOT, bundle_for_require

    out = tmp_path_factory.mktemp("writer") / "headerEdits.cjs"
    return bundle_for_require(ROOT / "pwa/src/data/headerEdits.ts", out)


@pytest.mark.parametrize("legacy_laptop", [False, True], ids=["pwa-writer", "laptop-on-the-old-writer"])
def test_issue_14_ticket_on_one_phone_title_on_the_other_both_survive(
    server, tenant, header_writer, legacy_laptop
):
    alice = tenant.add_user("engineer")
    sid, now = ulid(), int(time.time() * 1000)
    out = run_node(
        "session_header_edits.js",
        {
            "url": sessions_url(server, tenant),
            "alice": who(alice),
            "sid": sid,
            "tree_id": "tree:x",
            "now": now,
            "writer": str(header_writer),
            "legacy_laptop": legacy_laptop,
        },
    )
    for name in ("phone", "laptop", "server"):
        replica = out[name]
        assert replica["conflicts"] == [], (name, replica)
        assert (replica["ticket"], replica["title"]) == ("T-NEW", "PRN-02 offline since 08:40"), (
            name,
            replica,
        )
        assert replica["edited"]["ticket"] == now + 1000, (name, replica)
        assert replica["rev"] == out["server"]["rev"]


def test_get_session_merges_a_conflicted_header(server, http, tenant):
    """The API merges too (not only the feed follower): write two leaves with new_edits=false."""
    from tests.sessions.test_sessions_api import publish_tree, start

    tree_id = publish_tree(http, tenant)
    out = start(http, tenant, tree_id, ticket="T-0")
    sid, header = out["session_id"], out["header"]
    base = f"/sync/{tenant.id}/sessions"
    body = {k: v for k, v in header.items() if k not in ("id", "session_id", "_conflicts")}
    _gen, digest = header["_rev"].split("-")
    leaves = []
    for n, (ticket, t) in enumerate((("T-A", 10), ("T-B", 20))):
        rev = f"2-{n}{'a' * 31}"
        leaves.append(
            {
                **body,
                "_rev": rev,
                "ticket": ticket,
                "edited": {**header["edited"], "ticket": header["edited"]["ticket"] + t},
                "_revisions": {"start": 2, "ids": [rev.split("-")[1], digest]},
            }
        )
    r = http.post(f"{base}/_bulk_docs", headers=tenant.headers, json={"docs": leaves, "new_edits": False})
    assert r.status_code == 201, r.text
    r = http.get(f"/api/v1/sessions/{sid}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["header"]["ticket"] == "T-B"
    assert not got["header"].get("_conflicts")
    wait_until(
        lambda: (
            not http.get(f"{base}/session:{sid}", headers=tenant.headers, params={"conflicts": "true"})
            .json()
            .get("_conflicts")
        ),
        message="no conflicts left on the server",
    )
    assert any(h["value"] == "T-A" for h in got["header"]["history"])


def test_every_read_path_hides_an_unshared_session(server, http, tenant):
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid = ulid()
    base = f"/sync/{tenant.id}/sessions"
    docs = [
        {"_id": f"session:{sid}", "type": "session", "owner_id": alice.id, "shared_with": []},
        {
            "_id": f"session:{sid}:ev:{ulid()}",
            "type": "back",
            "user_id": alice.id,
            "session_id": sid,
            "ts": 1,
        },
    ]
    r = http.post(f"{base}/_bulk_docs", headers=alice.headers, json={"docs": docs})
    assert all("error" not in x for x in r.json()), r.text
    for doc in docs:
        assert http.get(f"{base}/{doc['_id']}", headers=bob.headers).status_code in (403, 404)
        assert http.get(f"{base}/{doc['_id']}", headers=alice.headers).status_code == 200
        assert http.get(f"{base}/{doc['_id']}", headers=tenant.headers).status_code == 200
    texts = [
        http.get(f"{base}/_all_docs", headers=bob.headers, params={"include_docs": "true"}).text,
        http.get(f"{base}/_changes", headers=bob.headers, params={"include_docs": "true"}).text,
        http.post(
            f"{base}/_bulk_get", headers=bob.headers, json={"docs": [{"id": d["_id"]} for d in docs]}
        ).text,
    ]
    for text in texts[:2]:
        assert sid not in text, text
    assert '"ok"' not in texts[2], texts[2]
    changes = http.get(f"{base}/_changes", headers=alice.headers).json()["results"]
    assert {c["id"] for c in changes} == {d["_id"] for d in docs}
