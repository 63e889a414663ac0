"""A workspace's backups over the API, against a real server with several tenants: the status
shows only the caller's part of the instance's snapshots, Back up now writes a snapshot of
that workspace alone that restores, one runs at a time, roles are checked, and the archive
recreates the workspace on another instance without carrying its secrets."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import httpx
import pytest

from api.backups.service import backup_embedded, list_snapshots, restore_embedded
from api.backups.workspace import tenant_lock, tenant_root
from sync.embedded import EmbeddedStore
from tests.attachments.helpers import png, publish_tree, upload
from tests.conftest import ServerProcess, Tenant, branchline_cli

SERVER_ENV = {
    "BRANCHLINE_RATE_LIMIT_BACKUPS_PER_HOUR": "5",
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
}


def add_client(http: httpx.Client, tenant: Tenant, slug: str) -> None:
    r = http.put(
        f"/sync/{tenant.id}/clients/client:{slug}",
        headers=tenant.headers,
        json={"type": "client", "schema_version": 1, "name": f"Client {slug}", "values": {}},
    )
    assert r.status_code == 201, r.text


def status(http: httpx.Client, who) -> dict:
    r = http.get("/api/v1/backups", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def backup_dir(server: ServerProcess) -> Path:
    return server.data_dir / "backups"


def test_status_shows_only_this_workspaces_part_of_the_nightly_snapshots(server, http):
    a, b = Tenant(http), Tenant(http)
    add_client(http, a, "contoso")
    add_client(http, b, "fabrikam")

    def fail_b(key: str) -> None:
        if key == b.id:
            raise OSError(f"disk full while copying t_{b.id}_sessions at /srv/secret/place")

    # The nightly job's own function, on the live data folder: b's part fails, a's succeeds.
    report = backup_embedded(server.data_dir, backup_dir(server), on_tenant=fail_b)
    assert set(report.failed) == {b.id}

    seen_a = status(http, a)
    assert seen_a["backend"] == "embedded" and seen_a["managed_by"] == "branchline"
    assert seen_a["schedule"]["description"] == "Every day at 02:30 UTC"
    assert seen_a["schedule"]["next_run"].endswith("T02:30:00Z")
    assert seen_a["retention"] == 7 and seen_a["can_back_up"] and seen_a["can_download"]
    nightly = [s for s in seen_a["snapshots"] if s["id"] == f"nightly-{report.path.name}"]
    assert len(nightly) == 1
    snap = nightly[0]
    assert snap["ok"] is True and snap["error"] is None
    names = {d["name"]: d for d in snap["databases"]}
    assert {"trees", "sessions", "clients"} <= set(names)
    assert names["clients"]["doc_count"] == 1 and names["clients"]["bytes"] > 0
    assert snap["bytes"] == sum(d["bytes"] for d in snap["databases"])
    text = json.dumps(seen_a)
    assert b.id not in text and "fabrikam" not in text  # nothing of the other workspace
    assert str(server.data_dir) not in text and "/srv/" not in text and "branchline_system" not in text

    seen_b = status(http, b)
    snap_b = next(s for s in seen_b["snapshots"] if s["id"] == f"nightly-{report.path.name}")
    assert snap_b["ok"] is False and "disk full" in snap_b["error"] and snap_b["databases"] == []
    assert a.id not in json.dumps(seen_b)


def test_back_up_now_writes_a_snapshot_of_this_workspace_alone_that_restores(server, http, tmp_path):
    a, b = Tenant(http), Tenant(http)
    add_client(http, a, "northwind")
    add_client(http, b, "litware")
    r = http.post("/api/v1/backups", headers=a.headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["kind"] == "workspace" and made["ok"] and made["bytes"] > 0
    assert {d["name"] for d in made["databases"]} >= {"trees", "sessions", "clients", "audit"}
    listed = status(http, a)["snapshots"]
    assert listed[0]["id"] == made["id"]  # newest first
    assert made["id"] not in json.dumps(status(http, b))

    root = tenant_root(backup_dir(server), a.id)
    snapshot = list_snapshots(root)[-1]
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["scope"] == {"tenant": a.id}
    assert all(name.startswith(f"t_{a.id}_") for name in manifest["databases"])
    assert not (snapshot / "secret.key").exists()  # the instance's key is not a workspace's
    files = {p.name for p in (snapshot / "dbs").iterdir()}
    assert files == {f"{n}.sqlite" for n in manifest["databases"]}

    restore_embedded(snapshot, tmp_path / "restored")
    restored = EmbeddedStore(tmp_path / "restored")
    try:
        assert sorted(restored.list_dbs()) == sorted(manifest["databases"])
        doc = restored.db(f"t_{a.id}_clients").get("client:northwind")
        assert doc["name"] == "Client northwind"
    finally:
        restored.close()

    entries = http.get("/api/v1/audit", headers=a.headers, params={"action": "backup."}).json()["items"]
    assert [e["action"] for e in entries] == ["backup.created"]
    assert entries[0]["target"] == {"type": "backup", "id": made["id"]}


def test_a_second_backup_of_a_workspace_while_one_runs_answers_409(server, http):
    a, b = Tenant(http), Tenant(http)
    # A backup of `a` in progress elsewhere (the lock a running Back up now holds).
    with tenant_lock(backup_dir(server), a.id):
        r = http.post("/api/v1/backups", headers=a.headers)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == "conflict" and "already running" in r.json()["reason"]
        assert status(http, a)["running"] is True
        # Another workspace is not held up by it.
        assert http.post("/api/v1/backups", headers=b.headers).status_code == 201
    assert status(http, a)["running"] is False
    assert http.post("/api/v1/backups", headers=a.headers).status_code == 201


def test_admins_read_the_status_only_and_engineers_nothing(server, http):
    a = Tenant(http)
    admin, engineer = a.add_user("admin"), a.add_user("engineer")
    seen = status(http, admin)
    assert seen["can_back_up"] is False and seen["can_download"] is False
    for who, paths in ((admin, ()), (engineer, ("/api/v1/backups",))):
        for path in paths:
            r = http.get(path, headers=who.headers)
            assert r.status_code == 403 and r.json()["error"] == "forbidden"
        r = http.post("/api/v1/backups", headers=who.headers)
        assert r.status_code == 403 and "owner" in r.json()["reason"]
        r = http.get("/api/v1/backups/archive", headers=who.headers)
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert not list_snapshots(tenant_root(backup_dir(server), a.id))


def test_back_up_now_is_rate_limited_per_workspace(server, http):
    a = Tenant(http)
    engineer = a.add_user("engineer")
    for _ in range(6):  # refused callers never spend the owners' allowance
        assert http.post("/api/v1/backups", headers=engineer.headers).status_code == 403
    for _ in range(5):
        assert http.post("/api/v1/backups", headers=a.headers).status_code == 201
    r = http.post("/api/v1/backups", headers=a.headers)
    assert r.status_code == 429 and r.json()["error"] == "too_many_requests"
    assert int(r.headers["Retry-After"]) > 0
    # Only the newest `retention` snapshots of the workspace stay (7 by default: all 5 here).
    assert len(list_snapshots(tenant_root(backup_dir(server), a.id))) == 5


# --- the archive: round trip to a fresh instance -----------------------------------------------


cli = branchline_cli


def event(http: httpx.Client, who, sid: str, body: dict) -> None:
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=who.headers, json=body)
    assert r.status_code == 201, r.text


def test_the_archive_recreates_the_workspace_on_a_fresh_instance_without_its_secrets(server, http, tmp_path):
    a = Tenant(http)
    engineer = a.add_user("engineer")
    add_client(http, a, "adatum")
    tree_id = publish_tree(http, a)
    r = http.post(
        "/api/v1/sessions",
        headers=engineer.headers,
        json={"tree_id": tree_id, "title": "VDA down", "ticket": "T-1"},
    )
    assert r.status_code == 201, r.text
    sid = r.json()["session_id"]
    event(http, engineer, sid, {"type": "answered", "node_id": "scope", "answer": "yes"})
    event(http, engineer, sid, {"type": "note", "node_id": "vda", "note_id": "n1", "text": "Checked the VDA"})
    shot = png(64, 48)
    r = upload(http, engineer, sid, shot, node_id="vda", record_event="true")
    assert r.status_code == 201, r.text
    att_id = r.json()["attachment_id"]
    key = http.post("/api/v1/api-keys", headers=a.headers, json={"name": "PSA", "role": "viewer"}).json()[
        "key"
    ]
    hook = http.post(
        "/api/v1/webhooks",
        headers=a.headers,
        json={"url": "http://127.0.0.1:9/hook", "events": ["session.completed"]},
    )
    assert hook.status_code == 201, hook.text
    webhook_secret = hook.json()["secret"]

    before = {
        "tree": http.get(f"/api/v1/trees/{tree_id}", headers=a.headers).json(),
        "versions": http.get(f"/api/v1/trees/{tree_id}/versions", headers=a.headers).json(),
        "session": http.get(f"/api/v1/sessions/{sid}", headers=a.headers).json(),
    }

    r = http.get("/api/v1/backups/archive", headers=a.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert re.match(
        r'attachment; filename="branchline-msp-[0-9a-f]+-\d{8}-\d{6}\.zip"', r.headers["content-disposition"]
    )
    data = r.content
    archive = tmp_path / "workspace.zip"
    archive.write_bytes(data)

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert (
            manifest["format"] == "branchline-workspace-archive" and manifest["source"]["tenant_id"] == a.id
        )
        assert {"trees", "sessions", "clients", "audit"} <= set(manifest["databases"])
        assert "webhooks" not in manifest["databases"]
        assert zf.read(f"attachments/{att_id}") == shot
        lines = [json.loads(x) for x in zf.read("databases/sessions.ndjson").splitlines()]
        assert all("_rev" in d and "_revisions" in d for d in lines)
        everything = b"".join(zf.read(n) for n in zf.namelist())
    # Secrets never travel: password hashes, tokens, API keys, webhook secrets, sealed values.
    for secret in (
        b"$argon2",
        b'"password_hash":',
        b'"secret_hash":',
        b'_sealed":',
        b'"token_hash":',
        a.tokens["refresh_token"].encode(),
        a.tokens["access_token"].encode(),
        key.encode(),
        webhook_secret.encode(),
        a.password.encode(),
        b"refresh:",
        b"apikey:",
    ):
        assert secret not in everything, secret

    # A fresh instance: import before it starts, on its own data folder and key.
    fresh = ServerProcess(tmp_path / "fresh", env=SERVER_ENV)
    fresh.data_dir.mkdir(parents=True)
    # A damaged copy (one attachment's bytes changed) is refused part-way and leaves nothing:
    # no database, no account, no file, so the good copy imports afterwards with the same e-mails.
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, body[:-1] + b"!" if info.filename == f"attachments/{att_id}" else body)
    result = cli(fresh.env, "tenant", "import", str(damaged), "--slug", "damaged1")
    assert result.returncode == 1 and "is damaged" in result.stderr, result.stderr
    store = EmbeddedStore(fresh.data_dir)
    try:
        assert not [n for n in store.list_dbs() if n.startswith("t_damaged1_")]
        assert not store.db("branchline_system").all_docs(
            startkey="user:damaged1:", endkey="user:damaged1:\ufff0"
        )["rows"]
    finally:
        store.close()
    assert not (fresh.data_dir / "attachments" / "damaged1").exists() or not any(
        (fresh.data_dir / "attachments" / "damaged1").iterdir()
    )
    result = cli(fresh.env, "tenant", "import", str(archive), "--slug", "moved123")
    assert result.returncode == 0, result.stderr
    password = re.search(
        rf"Owner {re.escape(a.owner_email)} new password \(shown once\): (.+)", result.stdout
    )
    assert password, result.stdout
    again = cli(fresh.env, "tenant", "import", str(archive), "--slug", "moved456")
    assert again.returncode == 1 and "already have an account" in again.stderr  # e-mails are unique
    fresh.start()
    try:
        with httpx.Client(base_url=fresh.url, timeout=30) as http2:
            r = http2.post("/api/v1/auth/login", json={"email": a.owner_email, "password": password.group(1)})
            assert r.status_code == 200, r.text
            owner = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert http2.get("/api/v1/me", headers=owner).json()["tenant"]["id"] == "moved123"
            assert http2.get(f"/api/v1/trees/{tree_id}", headers=owner).json() == before["tree"]
            assert http2.get(f"/api/v1/trees/{tree_id}/versions", headers=owner).json() == before["versions"]
            session = http2.get(f"/api/v1/sessions/{sid}", headers=owner).json()
            assert session.pop("elapsed_ms") >= before["session"].pop("elapsed_ms")  # the clock moved on
            assert session == before["session"]
            assert session["path"] and session["current_node"] == before["session"]["current_node"]
            r = http2.get(f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=owner)
            assert r.status_code == 200 and r.content == shot
            users = {u["email"] for u in http2.get("/api/v1/users", headers=owner).json()["items"]}
            assert users == {a.owner_email, engineer.email}
            # The old sign-ins and keys open nothing on the new instance.
            assert http2.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
            assert http2.get("/api/v1/webhooks", headers=owner).json()["items"] == []
            imported = http2.get("/api/v1/audit", headers=owner, params={"action": "tenant.imported"}).json()
            assert imported["items"][0]["details"]["attachments"] == 1
    finally:
        fresh.stop()


def test_import_refuses_a_file_that_is_not_an_archive_and_leaves_nothing(tmp_path):
    env = {**os.environ, "BRANCHLINE_DATA_DIR": str(tmp_path / "data"), "BRANCHLINE_SECRET_KEY": "k" * 48}
    bogus = tmp_path / "notes.zip"
    with zipfile.ZipFile(bogus, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "something-else"}))
    result = cli(env, "tenant", "import", str(bogus), "--slug", "moved789")
    assert result.returncode == 1 and "not a Branchline workspace archive" in result.stderr
    store = EmbeddedStore(tmp_path / "data")
    try:
        assert not [n for n in store.list_dbs() if n.startswith("t_")]
    finally:
        store.close()


def crafted_archive(path: Path, old: str, system: list[dict]) -> None:
    """A hand-made archive, as someone handing an operator a file could make one."""
    manifest = {
        "format": "branchline-workspace-archive",
        "version": 1,
        "created_at": "2026-12-04T10:00:00.000Z",
        "source": {"tenant_id": old, "name": "Crafted IT", "backend": "embedded"},
        "databases": {},
        "system": {"file": "system.ndjson", "documents": len(system)},
        "attachments": {"count": 0, "bytes": 0},
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("system.ndjson", "".join(json.dumps(d) + "\n" for d in system))
        zf.writestr("manifest.json", json.dumps(manifest))


def test_import_refuses_system_documents_an_archive_never_holds_and_leaves_nothing(tmp_path):
    """Regression: the import loaded any `{kind}:{old id}` document of the archive's system
    file, so a hand-made archive could bring the operator's quota override (lifting the
    workspace's quota: only `branchline tenant quota` may set it) or an API key whose secret
    its maker knows, though an archive never holds either."""
    env = {**os.environ, "BRANCHLINE_DATA_DIR": str(tmp_path / "data"), "BRANCHLINE_SECRET_KEY": "k" * 48}
    old = "crafted0"
    owner = {
        "_id": f"user:{old}:u1",
        "type": "user",
        "schema_version": 1,
        "tenant_id": old,
        "user_id": "u1",
        "email": "owner@crafted.example",
        "display_name": "Owner",
        "role": "owner",
        "active": True,
    }
    tenant = {"_id": f"tenant:{old}", "type": "tenant", "tenant_id": old, "name": "Crafted IT"}
    extras = {
        "quota": {"_id": f"quota:{old}", "type": "tenant_quota", "tenant_id": old, "storage_bytes": 0},
        "apikey": {
            "_id": f"apikey:{old}:k1",
            "type": "api_key",
            "tenant_id": old,
            "name": "mine",
            "role": "admin",
            "secret_hash": "0" * 64,
            "prefix": "bl_k1",
            "revoked": False,
        },
        # A known kind dressed as another: a "team" document with an account's fields and a
        # password hash of its maker's choosing.
        "disguised": {**owner, "_id": f"team:{old}:t1", "password_hash": "$argon2id$v=19$m=1,t=1,p=1$x$y"},
    }
    for n, (what, extra) in enumerate(extras.items()):
        archive = tmp_path / f"{what}.zip"
        crafted_archive(archive, old, [tenant, owner, extra])
        slug = f"crafted{n + 1}"
        result = cli(env, "tenant", "import", str(archive), "--slug", slug)
        assert result.returncode == 1, (what, result.stdout, result.stderr)
        assert extra["_id"] in result.stderr and "Traceback" not in result.stderr, result.stderr
        store = EmbeddedStore(tmp_path / "data")
        try:
            system = store.db("branchline_system")
            ids = [r["id"] for r in system.all_docs()["rows"]]
            left = [i for i in ids if slug in i or "crafted.example" in i]
            assert left == [], left
        finally:
            store.close()
    # The same archive without the stray document imports.
    good = tmp_path / "good.zip"
    crafted_archive(good, old, [tenant, owner])
    result = cli(env, "tenant", "import", str(good), "--slug", "crafted9")
    assert result.returncode == 0, result.stderr
    assert "Owner owner@crafted.example new password" in result.stdout


def test_import_refuses_a_damaged_archive_in_words_not_a_traceback(tmp_path):
    """Regression: a manifest without `source` or `system`, a missing member or a line that is
    not JSON ended the command with a Python traceback (KeyError, JSONDecodeError)."""
    env = {**os.environ, "BRANCHLINE_DATA_DIR": str(tmp_path / "data"), "BRANCHLINE_SECRET_KEY": "k" * 48}
    old = "crafted0"
    tenant = {"_id": f"tenant:{old}", "type": "tenant", "tenant_id": old, "name": "Crafted IT"}
    owner = {
        "_id": f"user:{old}:o1",
        "type": "user",
        "tenant_id": old,
        "user_id": "o1",
        "email": "o1@damaged.example",
        "role": "owner",
        "active": True,
    }
    good = tmp_path / "good.zip"
    crafted_archive(good, old, [tenant, owner])
    with zipfile.ZipFile(good) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        system = zf.read("system.ndjson")

    def variant(name: str, manifest: dict, files: dict[str, bytes]) -> Path:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("manifest.json", json.dumps(manifest))
            for member, body in files.items():
                zf.writestr(member, body)
        return path

    broken = {
        "no source": variant(
            "a", {k: v for k, v in manifest.items() if k != "source"}, {"system.ndjson": system}
        ),
        "no system": variant(
            "b", {k: v for k, v in manifest.items() if k != "system"}, {"system.ndjson": system}
        ),
        "member missing": variant("c", manifest, {}),
        "not json": variant("d", manifest, {"system.ndjson": system + b"{not json\n"}),
        "database file missing": variant(
            "e",
            {**manifest, "databases": {"trees": {"file": "databases/trees.ndjson"}}},
            {"system.ndjson": system},
        ),
    }
    for what, path in broken.items():
        result = cli(env, "tenant", "import", str(path), "--slug", "damaged9")
        assert result.returncode == 1, (what, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "damaged" in result.stderr, (what, result.stderr)
        store = EmbeddedStore(tmp_path / "data")
        try:
            assert not [n for n in store.list_dbs() if n.startswith("t_damaged9_")], what
            ids = [r["id"] for r in store.db("branchline_system").all_docs()["rows"]]
            assert not [i for i in ids if "damaged9" in i or "damaged.example" in i], (what, ids)
        finally:
            store.close()


def test_import_refuses_an_archive_without_its_workspace_or_an_owner(tmp_path):
    """Regression: an archive whose system file lacked the `tenant:` document (or held two) or
    any active owner imported "successfully" into accounts of no workspace, or a workspace
    nobody can sign in to and manage."""
    env = {**os.environ, "BRANCHLINE_DATA_DIR": str(tmp_path / "data"), "BRANCHLINE_SECRET_KEY": "k" * 48}
    old = "crafted0"
    tenant = {"_id": f"tenant:{old}", "type": "tenant", "tenant_id": old, "name": "Crafted IT"}

    def account(uid: str, role: str, active: bool = True) -> dict:
        return {
            "_id": f"user:{old}:{uid}",
            "type": "user",
            "tenant_id": old,
            "user_id": uid,
            "email": f"{uid}@crafted.example",
            "display_name": uid,
            "role": role,
            "active": active,
        }

    cases = {
        "no workspace": [account("o1", "owner")],
        "twice": [tenant, tenant, account("o1", "owner")],
        "no owner": [tenant, account("e1", "engineer")],
        "inactive owner": [tenant, account("o1", "owner", active=False), account("a1", "admin")],
    }
    for n, (what, system) in enumerate(cases.items()):
        archive = tmp_path / f"case{n}.zip"
        crafted_archive(archive, old, system)
        slug = f"nobody{n}"
        result = cli(env, "tenant", "import", str(archive), "--slug", slug)
        assert result.returncode == 1, (what, result.stdout, result.stderr)
        assert "nothing was imported" in result.stderr, (what, result.stderr)
        store = EmbeddedStore(tmp_path / "data")
        try:
            ids = [r["id"] for r in store.db("branchline_system").all_docs()["rows"]]
            assert not [i for i in ids if slug in i or "crafted.example" in i], (what, ids)
        finally:
            store.close()


def test_import_refuses_an_attachment_larger_than_any_upload_before_reading_it(tmp_path):
    """Regression: the import read each attachment of the archive whole into memory, so a
    hand-made archive with a small deflated entry that inflates to gigabytes (a zip bomb)
    could take the server's memory. No upload is ever larger than MAX_SIZE_MB_CAP."""
    from api.attachments.service import MAX_SIZE_MB_CAP

    env = {**os.environ, "BRANCHLINE_DATA_DIR": str(tmp_path / "data"), "BRANCHLINE_SECRET_KEY": "k" * 48}
    old = "crafted0"
    size = MAX_SIZE_MB_CAP * 1024 * 1024 + 1
    digest = hashlib.sha256()
    archive = tmp_path / "bomb.zip"
    meta = {
        "_id": f"attmeta:{old}:a1",
        "type": "attachment",
        "tenant_id": old,
        "attachment_id": "a1",
        "status": "stored",
        "content_type": "image/png",
        "size": size,
    }
    tenant = {"_id": f"tenant:{old}", "type": "tenant", "tenant_id": old, "name": "Crafted IT"}
    owner = {
        "_id": f"user:{old}:o1",
        "type": "user",
        "tenant_id": old,
        "user_id": "o1",
        "email": "o1@bomb.example",
        "role": "owner",
        "active": True,
    }
    crafted_archive(archive, old, [tenant, owner, meta])
    with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("attachments/a1", "w", force_zip64=True) as fh:
            block = b"\0" * (1024 * 1024)
            for _ in range(MAX_SIZE_MB_CAP):
                fh.write(block)
                digest.update(block)
            fh.write(b"\0")
            digest.update(b"\0")
    # Its checksum is right: only its size gives it away.
    with zipfile.ZipFile(archive) as zf:
        system = zf.read("system.ndjson").replace(
            b'"size"', f'"sha256": "{digest.hexdigest()}", "size"'.encode()
        )
        entries = {i.filename: zf.read(i.filename) for i in zf.infolist() if i.filename != "system.ndjson"}
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("system.ndjson", system)
        for name, body in entries.items():
            zf.writestr(name, body)
    assert archive.stat().st_size < size // 100  # small on disk

    result = cli(env, "tenant", "import", str(archive), "--slug", "bomb1234")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "a1" in result.stderr and f"{MAX_SIZE_MB_CAP} MB" in result.stderr, result.stderr
    store = EmbeddedStore(tmp_path / "data")
    try:
        assert not [
            r["id"] for r in store.db("branchline_system").all_docs()["rows"] if "bomb1234" in r["id"]
        ]
    finally:
        store.close()
    assert not any((tmp_path / "data" / "attachments").rglob("a1"))


@pytest.mark.parametrize(
    "expr,words",
    [
        ("30 2 * * *", "Every day at 02:30 UTC"),
        ("0 4 * * 0", "Every Sunday at 04:00 UTC"),
        ("15 * * * *", "Every hour at minute 15"),
        ("*/5 1-3 * * *", "On the cron schedule */5 1-3 * * * (UTC)"),
    ],
)
def test_the_schedule_in_words(expr, words):
    from api.backups.workspace import describe_cron

    assert describe_cron(expr) == words
