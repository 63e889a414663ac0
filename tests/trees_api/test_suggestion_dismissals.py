"""Dismissing suggestions: authors hide a group that is wrong or already handled; the
dismissal outlives restarts and index rebuilds, and a fresh request from the field shows the
group again."""

from __future__ import annotations

import shutil

import httpx
import pytest

from tests.trees_api.test_suggestions import _custom, _published, _session


def _listing(http, headers, tree_id: str, **params) -> dict[str, dict]:
    r = http.get(f"/api/v1/trees/{tree_id}/suggestions", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return {n["node_id"]: n for n in r.json()["items"]}


def _post(http, headers, tree_id: str, action: str, body) -> httpx.Response:
    return http.post(f"/api/v1/trees/{tree_id}/suggestions/{action}", headers=headers, json=body)


@pytest.fixture
def clock_skew_tree(http, tenant):
    """A published tree with two groups at `scope`: clock skew (twice) and a ping (once)."""
    author, engineer = tenant.add_user("author"), tenant.add_user("engineer")
    tree_id = _published(http, author.headers)
    s1, s2 = _session(http, engineer.headers, tree_id), _session(http, engineer.headers, tree_id)
    _custom(http, engineer.headers, s1, "scope", "Checked the VDA's clock skew.")
    _custom(http, engineer.headers, s2, "scope", "checked the VDA's clock skew", answer="failed")
    _custom(http, engineer.headers, s2, "scope", "Pinged the controller.")
    return tree_id, author, engineer, s1


def test_the_listing_names_each_group_by_node_and_text_key(http, clock_skew_tree):
    tree_id, author, _, _ = clock_skew_tree
    groups = _listing(http, author.headers, tree_id)["scope"]["suggestions"]
    assert [(g["text_key"], g["count"]) for g in groups] == [
        ("checked the vda's clock skew", 2),
        ("pinged the controller", 1),
    ]


def test_a_dismissed_group_leaves_the_listing(http, clock_skew_tree):
    tree_id, author, _, _ = clock_skew_tree
    r = _post(
        http,
        author.headers,
        tree_id,
        "dismiss",
        {"node_id": "scope", "text_key": "checked the vda's clock skew"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "ok": True,
        "node_id": "scope",
        "text_key": "checked the vda's clock skew",
        "dismissed": 2,
    }
    scope = _listing(http, author.headers, tree_id)["scope"]
    assert [g["text_key"] for g in scope["suggestions"]] == ["pinged the controller"]
    assert scope["count"] == 1
    # The dismissed occurrences are listed on request, with who dismissed them.
    hidden = _listing(http, author.headers, tree_id, dismissed="true")["scope"]["suggestions"]
    assert [(g["text_key"], g["count"], g["dismissed_by"]) for g in hidden] == [
        ("checked the vda's clock skew", 2, author.id)
    ]
    assert hidden[0]["dismissed_at"].endswith("Z")
    # Dismissing again changes nothing and says so.
    again = _post(
        http,
        author.headers,
        tree_id,
        "dismiss",
        {"node_id": "scope", "text_key": "checked the vda's clock skew"},
    )
    assert again.status_code == 200 and again.json()["dismissed"] == 0


def test_the_wording_itself_names_the_group_too(http, clock_skew_tree):
    tree_id, author, _, _ = clock_skew_tree
    r = _post(
        http,
        author.headers,
        tree_id,
        "dismiss",
        {"node_id": "scope", "text_key": "  Pinged the   controller."},
    )
    assert r.status_code == 200 and r.json()["text_key"] == "pinged the controller"
    assert [g["text_key"] for g in _listing(http, author.headers, tree_id)["scope"]["suggestions"]] == [
        "checked the vda's clock skew"
    ]


def test_restore_brings_every_occurrence_back(http, clock_skew_tree):
    tree_id, author, _, _ = clock_skew_tree
    ref = {"node_id": "scope", "text_key": "checked the vda's clock skew"}
    assert _post(http, author.headers, tree_id, "dismiss", ref).json()["dismissed"] == 2
    r = _post(http, author.headers, tree_id, "restore", ref)
    assert r.status_code == 200 and r.json()["restored"] == 2
    assert _listing(http, author.headers, tree_id)["scope"]["suggestions"][0]["count"] == 2
    assert _listing(http, author.headers, tree_id, dismissed="true") == {}
    assert _post(http, author.headers, tree_id, "restore", ref).json()["restored"] == 0


def test_a_new_occurrence_after_the_dismissal_shows_the_group_again(http, clock_skew_tree):
    tree_id, author, engineer, _ = clock_skew_tree
    ref = {"node_id": "scope", "text_key": "checked the vda's clock skew"}
    assert _post(http, author.headers, tree_id, "dismiss", ref).status_code == 200
    s3 = _session(http, engineer.headers, tree_id)
    _custom(http, engineer.headers, s3, "scope", "Checked the VDA's clock skew", note="still 5 min off")
    # The same wording at another node is another group, untouched by the dismissal.
    _custom(http, engineer.headers, s3, "event", "Checked the VDA's clock skew")
    items = _listing(http, author.headers, tree_id)
    group = next(g for g in items["scope"]["suggestions"] if g["text_key"] == ref["text_key"])
    assert group["count"] == 1 and group["session_ids"] == [s3]
    assert group["examples"][0]["note"] == "still 5 min off"
    assert items["event"]["suggestions"][0]["count"] == 1
    # Dismissing again hides only the new one; a restore brings back all three.
    assert _post(http, author.headers, tree_id, "dismiss", ref).json()["dismissed"] == 1
    assert _post(http, author.headers, tree_id, "restore", ref).json()["restored"] == 3


def test_dismissals_survive_a_restart_and_an_index_rebuild(http, server, clock_skew_tree):
    tree_id, author, engineer, _ = clock_skew_tree
    ref = {"node_id": "scope", "text_key": "checked the vda's clock skew"}
    assert _post(http, author.headers, tree_id, "dismiss", ref).json()["dismissed"] == 2
    server.stop()
    # The derived index holds nothing that cannot be rebuilt from the feeds: drop it.
    shutil.rmtree(server.data_dir / "index", ignore_errors=True)
    server.start()
    scope = _listing(http, author.headers, tree_id)["scope"]
    assert [g["text_key"] for g in scope["suggestions"]] == ["pinged the controller"]
    # And the rebuilt index still tells a fresh occurrence from the dismissed ones.
    _custom(
        http,
        engineer.headers,
        _session(http, engineer.headers, tree_id),
        "scope",
        "Checked the VDA's clock skew.",
    )
    group = next(
        g
        for g in _listing(http, author.headers, tree_id)["scope"]["suggestions"]
        if g["text_key"] == ref["text_key"]
    )
    assert group["count"] == 1


def test_dismissals_reveal_no_wording_to_devices(http, tenant, clock_skew_tree):
    """The trees database replicates to every role; the sidecar must not carry the custom
    steps' wording or the sessions they came from."""
    tree_id, author, engineer, s1 = clock_skew_tree
    assert (
        _post(
            http,
            author.headers,
            tree_id,
            "dismiss",
            {"node_id": "scope", "text_key": "checked the vda's clock skew"},
        ).status_code
        == 200
    )
    slug = tree_id.split(":", 1)[1]
    r = http.get(f"/sync/{tenant.id}/trees/treesug:{slug}", headers=engineer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["schema_version"] == 1
    assert "clock" not in r.text.lower() and s1 not in r.text
    # Only the server writes it.
    r = http.put(
        f"/sync/{tenant.id}/trees/treesug:{slug}", headers=author.headers, json={**r.json(), "dismissals": []}
    )
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


@pytest.mark.parametrize("role", ["engineer", "viewer"])
def test_only_authors_admins_and_owners_dismiss(http, tenant, clock_skew_tree, role):
    tree_id, _, _, _ = clock_skew_tree
    member = tenant.add_user(role)
    ref = {"node_id": "scope", "text_key": "pinged the controller"}
    for action in ("dismiss", "restore"):
        r = _post(http, member.headers, tree_id, action, ref)
        assert r.status_code == 403, r.text
        assert set(r.json()) >= {"error", "reason"} and r.json()["error"] == "forbidden"
    assert _listing(http, tenant.headers, tree_id)["scope"]["count"] == 3
    admin = tenant.add_user("admin")
    assert _post(http, admin.headers, tree_id, "dismiss", ref).json()["dismissed"] == 1
    assert _post(http, tenant.headers, tree_id, "restore", ref).json()["restored"] == 1


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"node_id": "scope"},
        {"text_key": "pinged the controller"},
        {"node_id": "scope", "text_key": ""},
        {"node_id": "scope", "text_key": " . "},
        {"node_id": "Not A Node!", "text_key": "pinged the controller"},
        {"node_id": "scope", "text_key": 7},
        {"node_id": "scope", "text_key": "x" * 2001},
        {"node_id": "scope", "text_key": "pinged the controller", "extra": 1},
    ],
)
def test_a_bad_body_is_a_400(http, clock_skew_tree, body):
    tree_id, author, _, _ = clock_skew_tree
    for action in ("dismiss", "restore"):
        r = _post(http, author.headers, tree_id, action, body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"] == "bad_request" and r.json()["reason"]


def test_unknown_trees_and_groups_are_404(http, clock_skew_tree):
    tree_id, author, _, _ = clock_skew_tree
    ref = {"node_id": "scope", "text_key": "pinged the controller"}
    r = _post(http, author.headers, "tree:no-such-tree", "dismiss", ref)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    for action, other in (
        ("dismiss", {"node_id": "event", "text_key": "pinged the controller"}),
        ("restore", {"node_id": "scope", "text_key": "never suggested"}),
    ):
        r = _post(http, author.headers, tree_id, action, other)
        assert r.status_code == 404 and "text_key" in r.json()["reason"], r.text
