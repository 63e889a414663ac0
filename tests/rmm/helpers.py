"""Helpers of the RMM tests: a published script, a session at its action step, runs."""

from __future__ import annotations

import httpx

from tests.conftest import wait_until
from tests.sessions.test_sessions_api import event, publish_tree, start

RUNNING = ("awaiting_approval", "pending", "submitting", "running")


def publish_script(
    http: httpx.Client, owner, slug: str, body: str, *, risk: str = "low", name: str | None = None
) -> str:
    """Publish a script through the script library's routes; where this server has none yet,
    write the published copy the library would write (`scriptver:` and `scriptmeta:` in the
    tenant's `scripts` database) over /sync as the owner."""
    script = {"_id": f"script:{slug}", "name": name or slug, "body": body, "risk": risk, "parameters": []}
    r = http.post("/api/v1/scripts", headers=owner.headers, json=script)
    if r.status_code == 201:
        r = http.post(f"/api/v1/scripts/script:{slug}/publish", headers=owner.headers, json={})
        assert r.status_code in (200, 201), r.text
        return f"script:{slug}"
    assert r.status_code in (404, 405), r.text
    root = owner.me["sync"]["root"]
    r = http.put(f"{root}scripts", headers=owner.headers)
    assert r.status_code in (201, 412), r.text
    version = {
        "_id": f"scriptver:{slug}:1",
        "type": "script_version",
        "schema_version": 1,
        "script_id": f"script:{slug}",
        "version": 1,
        "script": {**script, "shell": "powershell"},
    }
    r = http.put(f"{root}scripts/scriptver:{slug}:1", headers=owner.headers, json=version)
    if r.status_code == 409:
        return f"script:{slug}"  # published already (a shared test world)
    assert r.status_code == 201, r.text
    meta = {"_id": f"scriptmeta:{slug}", "type": "script_meta", "latest_version": 1, "archived": False}
    r = http.put(f"{root}scripts/scriptmeta:{slug}", headers=owner.headers, json=meta)
    assert r.status_code == 201, r.text
    return f"script:{slug}"


def rendered(http: httpx.Client, owner, script_id: str, body: str, parameters: dict | None = None) -> str:
    """The text the server runs for the script: the library's rendering where this server has
    the render route, else the published body itself."""
    r = http.post(
        f"/api/v1/scripts/{script_id}/render", headers=owner.headers, json={"parameters": parameters or {}}
    )
    if r.status_code == 200:
        return r.json()["script"]
    assert r.status_code in (404, 405), r.text
    return body


def session_at_action(http: httpx.Client, owner, who, tree_id: str | None = None) -> str:
    """A session of the standard test tree whose current step is the action `service`."""
    tree_id = tree_id or publish_tree(http, owner)
    sid = start(http, who, tree_id, title="VDA CTX-07 unregistered")["session_id"]
    event(http, who, sid, {"type": "answered", "node_id": "scope", "answer": "yes"})
    event(http, who, sid, {"type": "answered", "node_id": "vda", "answer": "submitted", "value": "CTX-07"})
    return sid


def configure(http: httpx.Client, who, system: str, body: dict, status: int = 200) -> dict:
    r = http.put(f"/api/v1/rmm/{system}", headers=who.headers, json=body)
    assert r.status_code == status, r.text
    return r.json()


def ask(http: httpx.Client, who, sid: str, status: int = 202, **body) -> dict:
    body.setdefault("node_id", "service")
    r = http.post(f"/api/v1/sessions/{sid}/script-runs", headers=who.headers, json=body)
    assert r.status_code == status, r.text
    return r.json()


def run_of(http: httpx.Client, who, sid: str, run_id: str) -> dict:
    r = http.get(f"/api/v1/sessions/{sid}/script-runs/{run_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def wait_done(http: httpx.Client, who, sid: str, run_id: str, timeout: float = 30) -> dict:
    return wait_until(
        lambda: (r := run_of(http, who, sid, run_id))["status"] == "done" and r,
        timeout=timeout,
        message=f"run {run_id} done",
    )


def session_state(http: httpx.Client, who, sid: str) -> dict:
    r = http.get(f"/api/v1/sessions/{sid}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def session_events(http: httpx.Client, owner, sid: str) -> list[dict]:
    """The session's event documents as a device replicates them (read as the tenant owner)."""
    r = http.post(
        f"{owner.me['sync']['root']}sessions/_all_docs",
        headers=owner.headers,
        json={"include_docs": True, "startkey": f"session:{sid}:ev:", "endkey": f"session:{sid}:ev:\ufff0"},
    )
    assert r.status_code == 200, r.text
    return [row["doc"] for row in r.json()["rows"]]


def audit_actions(http: httpx.Client, owner, prefix: str = "rmm.") -> list[dict]:
    r = http.get("/api/v1/audit", headers=owner.headers, params={"limit": 200})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["action"].startswith(prefix)]


def export(http: httpx.Client, who, sid: str, fmt: str = "markdown") -> str:
    r = http.get(f"/api/v1/sessions/{sid}/export", params={"format": fmt}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.content.decode()


def rmm_status(http: httpx.Client, owner, system: str) -> dict:
    """The connector's entry of GET /api/v1/rmm (the dashboard's data)."""
    r = http.get("/api/v1/rmm", headers=owner.headers)
    assert r.status_code == 200, r.text
    return next(i for i in r.json()["items"] if i["system"] == system)
