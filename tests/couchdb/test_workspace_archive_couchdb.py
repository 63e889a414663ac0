"""A workspace archive moves a workspace from the embedded backend to CouchDB: imported with
`branchline tenant import` into a CouchDB-backed instance, it reads the same through the API,
and the archive downloaded there again holds the same revisions. On CouchDB the Backups
status says CouchDB backs the instance up, and Back up now is refused."""

from __future__ import annotations

import io
import json
import re
import zipfile

import httpx

from tests.attachments.helpers import png, publish_tree, upload
from tests.conftest import ServerProcess, Tenant, branchline_cli


def revisions(archive: bytes) -> dict[str, set[tuple[str, str]]]:
    """Per database of the archive, the (id, rev) of every revision it holds."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        return {
            name: {(d["_id"], d["_rev"]) for d in map(json.loads, zf.read(entry["file"]).splitlines())}
            for name, entry in manifest["databases"].items()
        }


def test_an_embedded_workspace_moves_to_couchdb_through_its_archive(tmp_path, couchdb):
    source = ServerProcess(tmp_path / "embedded").start()
    try:
        with httpx.Client(base_url=source.url, timeout=30) as http:
            tenant = Tenant(http)
            tree_id = publish_tree(http, tenant)
            r = http.post(
                "/api/v1/sessions", headers=tenant.headers, json={"tree_id": tree_id, "title": "moving"}
            )
            sid = r.json()["session_id"]
            r = http.post(
                f"/api/v1/sessions/{sid}/events",
                headers=tenant.headers,
                json={"type": "answered", "node_id": "scope", "answer": "no"},
            )
            assert r.status_code == 201, r.text
            shot = png(40, 30)
            r = upload(http, tenant, sid, shot, record_event="true")
            assert r.status_code == 201, r.text
            att_id = r.json()["attachment_id"]
            before = {
                "tree": http.get(f"/api/v1/trees/{tree_id}", headers=tenant.headers).json(),
                "session": http.get(f"/api/v1/sessions/{sid}", headers=tenant.headers).json(),
            }
            r = http.get("/api/v1/backups/archive", headers=tenant.headers)
            assert r.status_code == 200, r.text
            archive = r.content
    finally:
        source.stop()
    path = tmp_path / "workspace.zip"
    path.write_bytes(archive)

    target = ServerProcess(tmp_path / "couch", env=couchdb.env())
    target.data_dir.mkdir(parents=True)
    result = branchline_cli(target.env, "tenant", "import", str(path), "--slug", "oncouch01")
    assert result.returncode == 0, result.stderr
    password = re.search(r"new password \(shown once\): (.+)", result.stdout).group(1)
    target.start()
    try:
        with httpx.Client(base_url=target.url, timeout=30) as http:
            r = http.post("/api/v1/auth/login", json={"email": tenant.owner_email, "password": password})
            assert r.status_code == 200, r.text
            owner = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert http.get(f"/api/v1/trees/{tree_id}", headers=owner).json() == before["tree"]
            session = http.get(f"/api/v1/sessions/{sid}", headers=owner).json()
            session.pop("elapsed_ms"), before["session"].pop("elapsed_ms")
            assert session == before["session"]
            r = http.get(f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=owner)
            assert r.status_code == 200 and r.content == shot

            seen = http.get("/api/v1/backups", headers=owner).json()
            assert seen["managed_by"] == "couchdb" and seen["snapshots"] == [] and seen["schedule"] is None
            assert (
                "replication" in seen["how"] and seen["can_back_up"] is False and seen["can_download"] is True
            )
            r = http.post("/api/v1/backups", headers=owner)
            assert r.status_code == 409 and r.json()["error"] == "not_available"

            r = http.get("/api/v1/backups/archive", headers=owner)
            assert r.status_code == 200, r.text
            again = revisions(r.content)
    finally:
        target.stop()
    first = revisions(archive)
    for name in ("trees", "sessions", "clients", "scripts"):
        if name in first:
            assert again[name] == first[name], name
