"""Suggestions: custom steps engineers added in sessions, grouped by node for the editor."""

from __future__ import annotations

from tests.trees.factories import valid_tree


def _published(http, headers) -> str:
    tree = valid_tree()
    tree.pop("_id")
    r = http.post("/api/v1/trees", headers=headers, json=tree)
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    assert http.post(f"/api/v1/trees/{tree_id}/publish", headers=headers, json={}).status_code == 201
    return tree_id


def _session(http, headers, tree_id: str) -> str:
    r = http.post("/api/v1/sessions", headers=headers, json={"tree_id": tree_id})
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def _custom(http, headers, sid: str, node_id: str, text: str, answer: str = "done", **extra) -> None:
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=headers,
        json={"type": "custom_step", "node_id": node_id, "text": text, "answer": answer, **extra},
    )
    assert r.status_code in (200, 201), r.text


def test_custom_steps_are_grouped_by_node_and_wording(http, tenant):
    author = tenant.add_user("author")
    engineer = tenant.add_user("engineer")
    tree_id = _published(http, author.headers)
    s1, s2, s3 = (_session(http, engineer.headers, tree_id) for _ in range(3))
    _custom(http, engineer.headers, s1, "scope", "Checked the VDA's clock skew.")
    _custom(
        http,
        engineer.headers,
        s2,
        "scope",
        "checked the VDA's   clock skew",
        answer="failed",
        note="5 min off",
    )
    _custom(http, engineer.headers, s3, "scope", "Pinged the controller.")
    _custom(http, engineer.headers, s3, "event", "Exported the event log.", answer="skipped")

    r = http.get(f"/api/v1/trees/{tree_id}/suggestions", headers=author.headers)
    assert r.status_code == 200, r.text
    items = {n["node_id"]: n for n in r.json()["items"]}
    assert set(items) == {"scope", "event"}
    scope = items["scope"]
    assert scope["count"] == 3
    first = scope["suggestions"][0]
    assert first["count"] == 2
    # The latest wording is shown; both sessions are listed, newest first.
    assert first["text"] == "checked the VDA's   clock skew".strip()
    assert first["session_ids"] == [s2, s1]
    assert first["answers"] == {"done": 1, "failed": 1}
    assert first["examples"][0]["note"] == "5 min off" and first["examples"][0]["tree_version"] == 1
    assert (
        scope["suggestions"][1]["text"] == "Pinged the controller." and scope["suggestions"][1]["count"] == 1
    )
    assert items["event"]["suggestions"][0]["answers"] == {"skipped": 1}


def test_suggestions_are_per_tree(http, tenant):
    author = tenant.add_user("author")
    one, two = _published(http, author.headers), _published(http, author.headers)
    sid = _session(http, author.headers, one)
    _custom(http, author.headers, sid, "scope", "Rebooted the VDA.")
    assert http.get(f"/api/v1/trees/{two}/suggestions", headers=author.headers).json()["items"] == []
    assert len(http.get(f"/api/v1/trees/{one}/suggestions", headers=author.headers).json()["items"]) == 1


def test_suggestions_need_an_author_and_an_existing_tree(http, tenant):
    engineer = tenant.add_user("engineer")
    tree_id = _published(http, tenant.headers)
    assert http.get(f"/api/v1/trees/{tree_id}/suggestions", headers=engineer.headers).status_code == 403
    r = http.get("/api/v1/trees/tree:no-such-tree/suggestions", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_other_events_are_not_suggestions(http, tenant):
    tree_id = _published(http, tenant.headers)
    sid = _session(http, tenant.headers, tree_id)
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=tenant.headers,
        json={"type": "note", "node_id": "scope", "note_id": "n1", "text": "Just a note"},
    )
    assert r.status_code in (200, 201), r.text
    assert http.get(f"/api/v1/trees/{tree_id}/suggestions", headers=tenant.headers).json()["items"] == []
