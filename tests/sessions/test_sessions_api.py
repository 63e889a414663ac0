"""Sessions as events over the API: start, list, read, patch, events, save-to-client.

A real server per module (tests/conftest.py), a fresh tenant per test. The helpers at the
top are shared with the other session test modules.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tenant
from tests.trees.factories import valid_tree

# --- helpers (also used by test_session_access_sync.py and test_clients.py) ------------------


def publish_tree(http: httpx.Client, tenant: Tenant, tree: dict | None = None) -> str:
    tree = tree or valid_tree()
    r = http.post("/api/v1/trees", headers=tenant.headers, json=tree)
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=tenant.headers, json={"change_note": "v1"})
    assert r.status_code in (200, 201), r.text
    return tree_id


def start(http: httpx.Client, who, tree_id: str, **body) -> dict:
    r = http.post("/api/v1/sessions", headers=who.headers, json={"tree_id": tree_id, **body})
    assert r.status_code == 201, r.text
    return r.json()


def event(http: httpx.Client, who, sid: str, body: dict, status: int = 201) -> dict:
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=who.headers, json=body)
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture
def tree_id(http, tenant):
    return publish_tree(http, tenant)


# --- starting -------------------------------------------------------------------------------


def test_start_pins_latest_version_and_answers_state_with_header(http, tenant, tree_id):
    out = start(http, tenant, tree_id, ticket="T-1", title="VDA 07 down")
    assert out["status"] == "in_progress"
    assert out["current_node"] == "scope"
    assert out["path"] == []
    header = out["header"]
    assert header["tree_id"] == tree_id and header["tree_version"] == 1
    assert header["owner_id"] == tenant.me["user"]["id"]
    assert header["ticket"] == "T-1" and header["title"] == "VDA 07 down"
    assert header["device_id"] == "api" and header["_rev"].startswith("1-")
    assert len(header["session_id"]) == 26 and out["session_id"] == header["session_id"]
    assert set(header["edited"]) >= {"ticket", "title", "client_id", "shared_with", "status"}


def test_start_refuses_unpublished_and_archived_without_version(http, tenant):
    tree = valid_tree()
    r = http.post("/api/v1/trees", headers=tenant.headers, json=tree)
    tid = r.json()["id"]
    r = http.post("/api/v1/sessions", headers=tenant.headers, json={"tree_id": tid})
    assert r.status_code == 409 and "publish" in r.json()["reason"]
    http.post(f"/api/v1/trees/{tid}/publish", headers=tenant.headers, json={})
    assert http.delete(f"/api/v1/trees/{tid}", headers=tenant.headers).status_code in (200, 204)
    r = http.post("/api/v1/sessions", headers=tenant.headers, json={"tree_id": tid})
    assert r.status_code == 409 and "archived" in r.json()["reason"]
    assert start(http, tenant, tid, version=1)["header"]["tree_version"] == 1
    r = http.post("/api/v1/sessions", headers=tenant.headers, json={"tree_id": tid, "version": 7})
    assert r.status_code == 404
    r = http.post("/api/v1/sessions", headers=tenant.headers, json={"tree_id": "tree:nope"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_viewer_cannot_start(http, tenant, tree_id):
    viewer = tenant.add_user("viewer")
    r = http.post("/api/v1/sessions", headers=viewer.headers, json={"tree_id": tree_id})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


# --- running --------------------------------------------------------------------------------


def test_full_run_with_notes_back_and_custom_step(http, tenant, tree_id):
    sid = start(http, tenant, tree_id)["session_id"]
    event(http, tenant, sid, {"type": "note", "node_id": "scope", "note_id": "n1", "text": "Only W11-07."})
    event(http, tenant, sid, {"type": "answered", "node_id": "scope", "answer": "no"})
    # stepped the wrong way: back, then the right answer
    out = event(http, tenant, sid, {"type": "back"})
    assert out["current_node"] == "scope" and len(out["tried"]) == 1
    event(http, tenant, sid, {"type": "answered", "node_id": "scope", "answer": "yes"})
    event(http, tenant, sid, {"type": "input_value", "node_id": "vda", "value": "CTX-W11-07"})
    out = event(http, tenant, sid, {"type": "answered", "node_id": "vda", "answer": "submitted"})
    assert out["inputs"] == {"vda_name": "CTX-W11-07"}
    out = event(
        http,
        tenant,
        sid,
        {
            "type": "custom_step",
            "node_id": "service",
            "answer": "done",
            "text": "Cleared ListOfDDCs",
            "note": "It pointed at an old DDC.",
        },
    )
    assert out["custom_steps"][0]["text"] == "Cleared ListOfDDCs"
    out = event(http, tenant, sid, {"type": "answered", "node_id": "service", "answer": "done"})
    assert out["current_node"] == "fixed" and out["resolution"]["outcome"] == "resolved"
    assert out["path"][-1]["log"] == "Restarted BrokerAgent on CTX-W11-07."
    out = event(http, tenant, sid, {"type": "completed"})
    assert out["status"] == "completed" and out["outcome"] == "resolved"
    assert out["header"]["status"] == "completed"
    assert [s["node_id"] for s in out["path"]] == ["scope", "vda", "service"]
    assert out["notes"]["scope"][0]["text"] == "Only W11-07."
    assert out["event"]["device_id"] == "api" and out["event"]["user_id"] == tenant.me["user"]["id"]
    assert out["event"]["_id"].startswith(f"session:{sid}:ev:")
    # answering a completed session
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=tenant.headers,
        json={"type": "answered", "node_id": "fixed", "answer": "yes"},
    )
    assert r.status_code in (400, 409)
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json={"type": "completed"})
    assert r.status_code == 409 and "reopen" in r.json()["reason"]
    # a note still lands after completion; reopen keeps the header in step
    event(http, tenant, sid, {"type": "note", "node_id": "fixed", "text": "Confirmed with the user."})
    out = event(http, tenant, sid, {"type": "reopened"})
    assert out["status"] == "in_progress" and out["header"]["status"] == "in_progress"
    got = http.get(f"/api/v1/sessions/session:{sid}", headers=tenant.headers).json()
    assert got["status"] == "in_progress" and got["current_node"] == "fixed"
    assert [h["type"] for h in got["history"]] == ["completed", "reopened"]


def test_answer_for_a_node_that_is_not_current_is_409_naming_the_current(http, tenant, tree_id):
    sid = start(http, tenant, tree_id)["session_id"]
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=tenant.headers,
        json={"type": "answered", "node_id": "service", "answer": "done"},
    )
    assert r.status_code == 409
    assert r.json()["error"] == "conflict" and "'scope'" in r.json()["reason"]
    assert r.json()["details"]["current_node"] == "scope"


@pytest.mark.parametrize(
    "body, words",
    [
        ({"type": "answered", "node_id": "scope", "answer": "maybe"}, "offers yes, no"),
        ({"type": "answered", "node_id": "scope"}, "needs `answer`"),
        ({"type": "answered", "node_id": "ghost", "answer": "yes"}, "no node 'ghost'"),
        ({"type": "note", "node_id": "scope"}, "needs `text`"),
        ({"type": "note", "node_id": "scope", "text": 5}, "must be a string"),
        (
            {"type": "custom_step", "node_id": "scope", "text": "x", "answer": "maybe"},
            "done, failed, skipped",
        ),
        ({"type": "input_value", "node_id": "scope", "value": "x"}, "not an input node"),
        ({"type": "completed", "outcome": "great"}, "resolved, escalated, unresolved"),
        ({"type": "teleport"}, "Unknown event type"),
        ({"type": "back", "node_id": "scope"}, "no field(s) node_id"),
        ({"type": "back", "ts": "yesterday"}, "milliseconds"),
    ],
)
def test_bad_events_are_400_saying_what_is_wrong(http, tenant, tree_id, body, words):
    sid = start(http, tenant, tree_id)["session_id"]
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request" and words in r.json()["reason"], r.json()["reason"]


def test_event_with_someone_elses_user_id_is_forbidden(http, tenant, tree_id):
    sid = start(http, tenant, tree_id)["session_id"]
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=tenant.headers,
        json={"type": "back", "user_id": "somebody-else"},
    )
    assert r.status_code == 403


def test_back_with_nothing_to_undo_is_409(http, tenant, tree_id):
    sid = start(http, tenant, tree_id)["session_id"]
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json={"type": "back"})
    assert r.status_code == 409 and "nothing" in r.json()["reason"]


def test_posting_the_same_event_again_is_idempotent(http, tenant, tree_id):
    sid = start(http, tenant, tree_id)["session_id"]
    body = {
        "_id": f"session:{sid}:ev:01JD3Z8Q6V9R1W0K2M4N5P7S8T",
        "type": "note",
        "node_id": "scope",
        "note_id": "n1",
        "text": "hello",
        "ts": 1795651200000,
        "device_id": "phone",
    }
    first = event(http, tenant, sid, body)
    again = event(http, tenant, sid, body)
    assert again["event"]["_id"] == first["event"]["_id"] and len(again["notes"]["scope"]) == 1
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json={**body, "text": "other"})
    assert r.status_code == 409


def test_second_devices_offline_events_merge_in_without_loss(http, tenant, tree_id):
    """A phone worked offline on the same session; its older events arrive later through the API."""
    out = start(http, tenant, tree_id)
    sid, t0 = out["session_id"], out["header"]["created_at"]
    event(http, tenant, sid, {"type": "answered", "node_id": "scope", "answer": "yes", "ts": t0 + 10_000})
    event(http, tenant, sid, {"type": "input_value", "node_id": "vda", "value": "W11-07", "ts": t0 + 12_000})
    # the phone's events: older ts, another device
    phone = {"device_id": "phone-1"}
    event(
        http,
        tenant,
        sid,
        {
            "type": "note",
            "node_id": "scope",
            "note_id": "p1",
            "text": "User says only W11-07.",
            "ts": t0 + 5_000,
            **phone,
        },
    )
    event(
        http,
        tenant,
        sid,
        {
            "type": "custom_step",
            "node_id": "scope",
            "text": "Pinged the VDA",
            "answer": "done",
            "ts": t0 + 6_000,
            **phone,
        },
    )
    event(
        http,
        tenant,
        sid,
        {
            "type": "note",
            "node_id": "vda",
            "note_id": "p2",
            "text": "Asked the user for the name",
            "ts": t0 + 11_000,
            **phone,
        },
    )
    # the phone also answered the first node: a different, older answer for "scope" that is
    # the current node at its time: accepted, and the fold orders it first
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=tenant.headers,
        json={"type": "answered", "node_id": "scope", "answer": "no", "ts": t0 + 7_000, **phone},
    )
    assert r.status_code == 201, r.text
    state = http.get(f"/api/v1/sessions/{sid}", headers=tenant.headers).json()
    assert state["notes"]["scope"][0]["text"] == "User says only W11-07."
    assert state["notes"]["vda"][0]["device_id"] == "phone-1"
    assert state["custom_steps"][0]["text"] == "Pinged the VDA"
    assert state["path"][0]["answer"] == "no" and state["path"][0]["device_id"] == "phone-1"
    assert any(i["reason"] == "not_current" for i in state["ignored"])  # the API's later "yes" loses
    assert state["drafts"]["vda"] == "W11-07"


# --- reading, listing, patching --------------------------------------------------------------


def test_engineers_see_only_their_own_and_shared_sessions(http, tenant, tree_id):
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    a = start(http, alice, tree_id, title="alice's")
    b = start(http, bob, tree_id, title="bob's")
    r = http.get(f"/api/v1/sessions/{a['session_id']}", headers=bob.headers)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = http.post(f"/api/v1/sessions/{a['session_id']}/events", headers=bob.headers, json={"type": "back"})
    assert r.status_code == 403
    mine = http.get("/api/v1/sessions", headers=bob.headers, params={"scope": "mine"}).json()
    assert [i["session_id"] for i in mine["items"]] == [b["session_id"]]
    assert http.get("/api/v1/sessions", headers=bob.headers, params={"scope": "all"}).status_code == 403
    # alice shares with bob
    r = http.patch(
        f"/api/v1/sessions/{a['session_id']}",
        headers=alice.headers,
        json={"_rev": a["header"]["_rev"], "shared_with": [bob.id]},
    )
    assert r.status_code == 200, r.text
    shared = http.get("/api/v1/sessions", headers=bob.headers, params={"scope": "shared"}).json()
    assert [i["session_id"] for i in shared["items"]] == [a["session_id"]]
    assert http.get(f"/api/v1/sessions/{a['session_id']}", headers=bob.headers).status_code == 200
    event(http, bob, a["session_id"], {"type": "note", "node_id": "scope", "text": "bob was here"})
    # bob may not reshare alice's session
    cur = http.get(f"/api/v1/sessions/{a['session_id']}", headers=bob.headers).json()["header"]
    r = http.patch(
        f"/api/v1/sessions/{a['session_id']}",
        headers=bob.headers,
        json={"_rev": cur["_rev"], "shared_with": []},
    )
    assert r.status_code == 403
    both = http.get("/api/v1/sessions", headers=bob.headers).json()
    assert {i["session_id"] for i in both["items"]} == {a["session_id"], b["session_id"]}
    every = http.get("/api/v1/sessions", headers=tenant.headers, params={"scope": "all"}).json()
    assert {i["session_id"] for i in every["items"]} == {a["session_id"], b["session_id"]}


def test_list_filters_and_paging(http, tenant, tree_id):
    http.post("/api/v1/clients", headers=tenant.headers, json={"_id": "client:contoso", "name": "Contoso"})
    ids = [
        start(http, tenant, tree_id, ticket=f"T{i}", client_id="client:contoso" if i % 2 else None)[
            "session_id"
        ]
        for i in range(5)
    ]
    event(http, tenant, ids[0], {"type": "abandoned", "reason": "duplicate ticket"})
    seen, cursor = [], None
    while True:
        r = http.get(
            "/api/v1/sessions",
            headers=tenant.headers,
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        assert r.status_code == 200, r.text
        seen += [i["session_id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)  # newest first (ULIDs sort by time)

    def q(**p):
        items = http.get("/api/v1/sessions", headers=tenant.headers, params=p).json()["items"]
        return [i["session_id"] for i in items]

    assert set(q(client_id="contoso")) == {ids[1], ids[3]}
    assert q(status="abandoned") == [ids[0]]
    assert set(q(tree_id=tree_id)) == set(ids)
    assert q(tree_id="tree:other") == []
    assert set(q(**{"from": "2000-01-01"})) == set(ids) and q(to="2000-01-01") == []
    r = http.get("/api/v1/sessions", headers=tenant.headers, params={"from": "soon"})
    assert r.status_code == 400
    assert http.get("/api/v1/sessions", headers=tenant.headers, params={"limit": 201}).status_code == 400


def test_patch_with_stale_rev_is_409_and_updates_edited(http, tenant, tree_id):
    out = start(http, tenant, tree_id)
    sid, rev = out["session_id"], out["header"]["_rev"]
    r = http.patch(f"/api/v1/sessions/{sid}", headers=tenant.headers, json={"_rev": rev, "ticket": "T-9"})
    assert r.status_code == 200, r.text
    header = r.json()["header"]
    assert header["ticket"] == "T-9" and header["edited"]["ticket"] >= out["header"]["edited"]["ticket"]
    assert header["edited"]["title"] == out["header"]["edited"]["title"]
    r = http.patch(f"/api/v1/sessions/{sid}", headers=tenant.headers, json={"_rev": rev, "title": "late"})
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = http.patch(
        f"/api/v1/sessions/{sid}", headers=tenant.headers, json={"_rev": header["_rev"], "tree_id": "x"}
    )
    assert r.status_code == 400
    r = http.patch(
        f"/api/v1/sessions/{sid}",
        headers=tenant.headers,
        json={"_rev": header["_rev"], "shared_with": ["no-such-user"]},
    )
    assert r.status_code == 400 and "No user" in r.json()["reason"]


def test_unknown_and_malformed_session_ids_are_404(http, tenant):
    assert http.get("/api/v1/sessions/01JD3Z8Q6V9R1W0K2M4N5P7S8T", headers=tenant.headers).status_code == 404
    assert http.get("/api/v1/sessions/not-a-ulid", headers=tenant.headers).status_code == 404


# --- client contexts in sessions ---------------------------------------------------------------


def test_client_variables_fill_and_save_to_client(http, tenant, tree_id):
    r = http.post(
        "/api/v1/clients",
        headers=tenant.headers,
        json={"name": "Contoso Ltd", "values": {"domain": "contoso.local"}},
    )
    assert r.status_code == 201, r.text
    client_id = r.json()["_id"]
    assert client_id == "client:contoso-ltd"
    sid = start(http, tenant, tree_id, client_id=client_id)["session_id"]
    event(http, tenant, sid, {"type": "answered", "node_id": "scope", "answer": "no"})
    out = event(http, tenant, sid, {"type": "answered", "node_id": "event", "answer": "1002"})
    assert out["path"][-1]["log"].endswith("at Contoso Ltd.")
    # save-to-client needs a value entered at the input node
    sid2 = start(http, tenant, tree_id, client_id=client_id)["session_id"]
    r = http.post(f"/api/v1/sessions/{sid2}/save-to-client", headers=tenant.headers, json={"node_id": "vda"})
    assert r.status_code == 409 and "No value" in r.json()["reason"]
    event(http, tenant, sid2, {"type": "answered", "node_id": "scope", "answer": "yes"})
    event(
        http, tenant, sid2, {"type": "answered", "node_id": "vda", "answer": "submitted", "value": "CTX-07"}
    )
    r = http.post(f"/api/v1/sessions/{sid2}/save-to-client", headers=tenant.headers, json={"node_id": "vda"})
    assert r.status_code == 200, r.text
    assert r.json()["client"]["values"] == {"domain": "contoso.local", "vdas": "CTX-07"}
    got = http.get(f"/api/v1/clients/{client_id}", headers=tenant.headers).json()
    assert got["values"]["vdas"] == "CTX-07"
    r = http.post(
        f"/api/v1/sessions/{sid2}/save-to-client", headers=tenant.headers, json={"node_id": "scope"}
    )
    assert r.status_code == 400
    # a session without a client
    sid3 = start(http, tenant, tree_id)["session_id"]
    r = http.post(f"/api/v1/sessions/{sid3}/save-to-client", headers=tenant.headers, json={"node_id": "vda"})
    assert r.status_code == 409 and "no client" in r.json()["reason"]
    r = http.post(
        "/api/v1/sessions", headers=tenant.headers, json={"tree_id": tree_id, "client_id": "client:ghost"}
    )
    assert r.status_code == 404


def test_session_bundle_for_exports(server, http, tenant, tree_id):
    """`get_session_bundle` is what the exports feature builds on; check its shape in-process."""
    from api.core.context import AppContext
    from api.sessions.service import get_session_bundle
    from api.settings import Settings
    from sync.access import Principal
    from sync.errors import Forbidden, NotFound

    http.post("/api/v1/clients", headers=tenant.headers, json={"_id": "client:fabrikam", "name": "Fabrikam"})
    sid = start(http, tenant, tree_id, client_id="client:fabrikam")["session_id"]
    event(http, tenant, sid, {"type": "answered", "node_id": "scope", "answer": "yes"})
    engineer = tenant.add_user("engineer")
    # Reading the server's data folder from a second process is what an operator's CLI does too.
    ctx = AppContext.create(
        Settings(data_dir=server.data_dir, secret_key=server.env["BRANCHLINE_SECRET_KEY"])
    )
    try:
        owner = Principal(tenant_id=tenant.id, user_id=tenant.me["user"]["id"], role="owner")
        bundle = get_session_bundle(ctx, owner, sid)
        assert set(bundle) == {"header", "events", "tree", "tree_version", "client", "state"}
        assert bundle["tree"]["start"] == "scope" and bundle["tree_version"]["version"] == 1
        assert bundle["client"]["name"] == "Fabrikam" and len(bundle["events"]) == 1
        assert bundle["state"]["current_node"] == "vda"
        with pytest.raises(Forbidden):
            get_session_bundle(ctx, Principal(tenant_id=tenant.id, user_id=engineer.id, role="engineer"), sid)
        with pytest.raises(NotFound):
            get_session_bundle(ctx, owner, "01JD3Z8Q6V9R1W0K2M4N5P7S8T")
    finally:
        ctx.store.close()
