"""Attachments: raw PUT/GET/DELETE with content types, and inline base64 in documents."""

from __future__ import annotations

import base64
import hashlib
import os

from app_for_tests import VIEWER


def test_put_get_delete_raw_attachment(client, db):
    data = os.urandom(50_000)
    r = client.put(f"{db}/shot/screen.png", content=data, headers={"Content-Type": "image/png"})
    assert r.status_code == 201
    rev1 = r.json()["rev"]
    got = client.get(f"{db}/shot/screen.png")
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-md5"] == base64.b64encode(hashlib.md5(data).digest()).decode()

    stub = client.get(f"{db}/shot").json()["_attachments"]["screen.png"]
    assert stub["stub"] is True and stub["length"] == len(data)
    assert stub["content_type"] == "image/png"

    # A second attachment needs the current rev.
    stale = client.put(f"{db}/shot/log.txt", content=b"x", headers={"Content-Type": "text/plain"})
    assert stale.status_code == 409
    r = client.put(
        f"{db}/shot/log.txt", params={"rev": rev1}, content=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 201
    rev2 = r.json()["rev"]
    assert client.get(f"{db}/shot/log.txt").text == "hello"

    r = client.delete(f"{db}/shot/screen.png", params={"rev": rev2})
    assert r.status_code == 200
    assert client.get(f"{db}/shot/screen.png").status_code == 404
    assert client.get(f"{db}/shot/log.txt").content == b"hello"


def test_attachment_names_may_contain_slashes(client, db):
    r = client.put(f"{db}/doc/dir/file.txt", content=b"nested", headers={"Content-Type": "text/plain"})
    assert r.status_code == 201
    assert client.get(f"{db}/doc/dir/file.txt").content == b"nested"
    assert "dir/file.txt" in client.get(f"{db}/doc").json()["_attachments"]


def test_inline_attachments_in_documents(client, db):
    payload = b"\x00\x01binary\xff"
    r = client.put(
        f"{db}/inline",
        json={
            "_attachments": {
                "a.bin": {
                    "content_type": "application/octet-stream",
                    "data": base64.b64encode(payload).decode(),
                }
            }
        },
    )
    assert r.status_code == 201
    doc = client.get(f"{db}/inline", params={"attachments": "true"}).json()
    assert base64.b64decode(doc["_attachments"]["a.bin"]["data"]) == payload
    assert client.get(f"{db}/inline/a.bin").content == payload


def test_viewer_reads_attachments_but_may_not_add_them(client, db, as_user):
    client.put(f"{db}/d/a.txt", content=b"abc", headers={"Content-Type": "text/plain"})
    viewer = as_user(VIEWER)
    assert viewer.get(f"{db}/d/a.txt").content == b"abc"
    rev = client.get(f"{db}/d").json()["_rev"]
    r = viewer.put(f"{db}/d/b.txt", params={"rev": rev}, content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 403


def test_missing_attachment_is_404(client, db):
    client.put(f"{db}/d", json={})
    r = client.get(f"{db}/d/nothing.txt")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
