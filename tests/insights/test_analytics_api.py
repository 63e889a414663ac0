"""Analytics over the API: sessions driven through the API, figures checked by hand.

A real server per module (tests/conftest.py), a fresh tenant per test. Events carry their
own `ts` (offsets from each session's `created_at`), so every duration below is computed by
hand from the offsets written here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.sessions.ids import ulid
from tests.conftest import ROOT, Member, Tenant
from tests.sessions.test_sessions_api import event, publish_tree, start


def run(
    http: httpx.Client, who: Tenant | Member, tree_id: str, steps: list[tuple[int, dict[str, Any]]]
) -> str:
    """Start a session as `who` and post `steps` as (ms after created_at, event body)."""
    out = start(http, who, tree_id)
    sid, created = out["session_id"], out["header"]["created_at"]
    for offset, body in steps:
        event(http, who, sid, {**body, "ts": created + offset})
    return sid


def three_sessions(http: httpx.Client, tenant: Tenant) -> tuple[str, Member, Member]:
    tree_id = publish_tree(http, tenant)
    e1, e2 = tenant.add_user("engineer"), tenant.add_user("engineer")
    # A (e1): resolved in 12 s through the input and the service restart.
    run(
        http,
        e1,
        tree_id,
        [
            (1000, {"type": "answered", "node_id": "scope", "answer": "yes"}),
            (3000, {"type": "answered", "node_id": "vda", "answer": "submitted", "value": "v7"}),
            (10_000, {"type": "answered", "node_id": "service", "answer": "done"}),
            (12_000, {"type": "completed"}),
        ],
    )
    # B (e2): "no", stepped back, "no" again, event 1010, escalated after 10 s.
    run(
        http,
        e2,
        tree_id,
        [
            (2000, {"type": "answered", "node_id": "scope", "answer": "no"}),
            (2500, {"type": "back"}),
            (4000, {"type": "answered", "node_id": "scope", "answer": "no"}),
            (9000, {"type": "answered", "node_id": "event", "answer": "1010"}),
            (10_000, {"type": "completed"}),
        ],
    )
    # C (e1): a custom step at the input, then abandoned there.
    run(
        http,
        e1,
        tree_id,
        [
            (1000, {"type": "answered", "node_id": "scope", "answer": "yes"}),
            (1500, {"type": "custom_step", "node_id": "vda", "text": "Pinged it", "answer": "done"}),
            (2000, {"type": "abandoned"}),
        ],
    )
    return tree_id, e1, e2


def _node(
    visits: int, answers: dict[str, int], median: int | None, drop: int = 0, back: int = 0, custom: int = 0
) -> dict[str, Any]:
    return {
        "visits": visits,
        "answers": answers,
        "drop_offs": drop,
        "median_ms": median,
        "back_steps": back,
        "custom_steps": custom,
    }


def expected_team(tree_id: str) -> dict[str, Any]:
    return {
        "tree_id": tree_id,
        "version": None,
        "scope": "tenant",
        "sessions": 3,
        "completed": 2,
        "abandoned": 1,
        "in_progress": 0,
        "outcomes": {"resolved": 1, "escalated": 1, "unresolved": 0},
        "duration_ms": {"p50": 10_000, "p90": 12_000},  # nearest rank over {10000, 12000}
        "nodes": {
            # answered after 1000 (A), 2000 then 1500 (B), 1000 (C): ranks 1000, 1000, 1500, 2000
            "scope": _node(4, {"no": 2, "yes": 2}, 1000, back=1),
            "vda": _node(2, {"submitted": 1}, 2000, drop=1, custom=1),
            "service": _node(1, {"done": 1}, 7000),
            "event": _node(1, {"1010": 1}, 5000),
            "fixed": _node(1, {}, None),
            "escalate": _node(1, {}, None),
        },
        "paths": [
            {"resolution": "escalate", "nodes": ["scope", "event", "escalate"], "count": 1},
            {"resolution": "fixed", "nodes": ["scope", "vda", "service", "fixed"], "count": 1},
        ],
        "custom_steps": [{"node_id": "vda", "count": 1}],
    }


def test_tree_analytics_match_hand_computed_figures(http, tenant):
    tree_id, _, _ = three_sessions(http, tenant)
    r = http.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json() == expected_team(tree_id)
    v1 = http.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers, params={"version": 1}).json()
    assert v1 == {**expected_team(tree_id), "version": 1}
    v2 = http.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers, params={"version": 2}).json()
    assert (v2["sessions"], v2["nodes"], v2["paths"]) == (0, {}, [])
    future = http.get(
        f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers, params={"from": "2999-01-01"}
    ).json()
    assert future["sessions"] == 0


def test_engineers_see_only_their_own_figures(http, tenant):
    tree_id, e1, e2 = three_sessions(http, tenant)
    mine = http.get(f"/api/v1/analytics/trees/{tree_id}", headers=e1.headers).json()
    assert (mine["scope"], mine["sessions"], mine["completed"], mine["abandoned"]) == ("mine", 2, 1, 1)
    assert "event" not in mine["nodes"]
    overview = http.get("/api/v1/analytics/overview", headers=e2.headers).json()
    assert [row["user_id"] for row in overview["engineers"]] == [e2.id]
    assert overview["trees"][0]["sessions"] == 1
    admin = http.get("/api/v1/analytics/overview", headers=tenant.headers).json()
    assert sorted((row["user_id"], row["sessions"]) for row in admin["engineers"]) == sorted(
        [(e1.id, 2), (e2.id, 1)]
    )
    assert admin["trees"] == [
        {
            "tree_id": tree_id,
            "sessions": 3,
            "completed": 2,
            "abandoned": 1,
            "in_progress": 0,
            "outcomes": {"resolved": 1, "escalated": 1, "unresolved": 0},
            "duration_ms": {"p50": 10_000, "p90": 12_000},
        }
    ]
    viewer = tenant.add_user("viewer")
    r = http.get("/api/v1/analytics/overview", headers=viewer.headers)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_csv_exports(http, tenant):
    tree_id, e1, _ = three_sessions(http, tenant)
    r = http.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers, params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["node_id"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["scope"]["answers"] == "no=2;yes=2" and rows["vda"]["drop_offs"] == "1"
    assert rows["service"]["median_ms"] == "7000" and rows["fixed"]["median_ms"] == ""
    r = http.get("/api/v1/analytics/overview", headers=tenant.headers, params={"format": "csv"})
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [(t["kind"], t["sessions"]) for t in table if t["id"] == e1.id] == [("engineer", "2")]
    assert [(t["resolved"], t["p90_ms"]) for t in table if t["kind"] == "tree"] == [("1", "12000")]


def test_unknown_tree_and_bad_dates_are_refused(http, tenant):
    r = http.get("/api/v1/analytics/trees/tree:nope", headers=tenant.headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = http.get("/api/v1/analytics/overview", headers=tenant.headers, params={"from": "last week"})
    assert r.status_code == 400 and "2026-11-26" in r.json()["reason"]


def test_rebuilt_from_scratch_gives_the_same_figures(http, server, tenant):
    tree_id, _, _ = three_sessions(http, tenant)
    before = http.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers).json()
    server.stop()
    shutil.rmtree(server.data_dir / "index")
    server.start()
    token = http.post(
        "/api/v1/auth/login", json={"email": tenant.owner_email, "password": tenant.password}
    ).json()
    after = http.get(
        f"/api/v1/analytics/trees/{tree_id}", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert after == before == expected_team(tree_id)


def test_offline_devices_syncing_late_with_a_duplicated_event(http, server, tenant):
    """Real PouchDB: the completion syncs before the answers, and two devices push the same event."""
    tree_id = publish_tree(http, tenant)
    engineer = tenant.add_user("engineer")
    node_dir = ROOT / "tests" / "node"
    if shutil.which("node") is None or not (node_dir / "node_modules").is_dir():
        pytest.fail("node and tests/node/node_modules are needed: run `npm ci --prefix tests/node`")
    args = {
        "sync_url": f"{server.url}/sync/{tenant.id}/sessions",
        "api_url": server.url,
        "user": engineer.id,
        "token": engineer.tokens["access_token"],
        "sid": ulid(),
        "tree_id": tree_id,
        "now": int(time.time() * 1000),
    }
    proc = subprocess.run(
        ["node", str(Path(__file__).with_name("offline_device.js")), json.dumps(args)],
        env={**os.environ, "NODE_PATH": str(node_dir / "node_modules")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    first = out["after_first_sync"]
    assert (first["sessions"], first["in_progress"], first["nodes"]["scope"]) == (
        1,
        1,
        _node(1, {"yes": 1}, 1000),
    )
    # Only the completion has arrived: the session ended at the input node, without its resolution.
    early = out["after_completion_only"]
    assert (early["completed"], early["outcomes"]["unresolved"], early["duration_ms"]["p50"]) == (
        1,
        1,
        12_000,
    )
    assert early["paths"] == [{"resolution": "vda", "nodes": ["scope", "vda"], "count": 1}]
    # The laptop's copy of the vda answer is the same document (same revision), so the phone's
    # push later skips it; a push repeated with nothing new writes nothing.
    assert out["pushes"] == {"laptop": 1, "phone": 1, "again": 0, "failures": 0}
    final = out["final"]
    assert final == {
        "tree_id": tree_id,
        "version": None,
        "scope": "mine",
        "sessions": 1,
        "completed": 1,
        "abandoned": 0,
        "in_progress": 0,
        "outcomes": {"resolved": 1, "escalated": 0, "unresolved": 0},
        "duration_ms": {"p50": 12_000, "p90": 12_000},
        "nodes": {
            "scope": _node(1, {"yes": 1}, 1000),
            "vda": _node(1, {"submitted": 1}, 2000),
            "service": _node(1, {"done": 1}, 7000),
            "fixed": _node(1, {}, None),
        },
        "paths": [{"resolution": "fixed", "nodes": ["scope", "vda", "service", "fixed"], "count": 1}],
        "custom_steps": [],
    }
    owner_view = http.get(f"/api/v1/analytics/trees/{tree_id}", headers=tenant.headers).json()
    assert {k: v for k, v in owner_view.items() if k != "scope"} == {
        k: v for k, v in final.items() if k != "scope"
    }


def test_overview_counts_sessions_per_day_they_started(http, tenant):
    _tree_id, e1, _ = three_sessions(http, tenant)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    admin = http.get("/api/v1/analytics/overview", headers=tenant.headers).json()
    assert admin["days"] == [{"day": today, "sessions": 3, "completed": 2, "resolved": 1}]
    # An engineer's series counts their own sessions: A (resolved) and C (abandoned).
    mine = http.get("/api/v1/analytics/overview", headers=e1.headers).json()
    assert mine["days"] == [{"day": today, "sessions": 2, "completed": 1, "resolved": 1}]
    later = http.get("/api/v1/analytics/overview", headers=tenant.headers, params={"from": "2999-01-01"})
    assert later.json()["days"] == []
