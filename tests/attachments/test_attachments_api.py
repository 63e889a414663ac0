"""Attachments over the API on the embedded default: files in a folder under the data folder.

A real server per module (tests/conftest.py), a fresh tenant per test. Every refusal is
checked twice: the answer says why, and nothing was stored (no file, no record).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.attachments.helpers import (
    ELF,
    EXE,
    SHEBANG,
    exif_of,
    jpeg_with_gps,
    new_id,
    png,
    png_with_text_and_exif,
    publish_tree,
    sha,
    start_session,
    upload,
)


@pytest.fixture
def tree_id(http, tenant):
    return publish_tree(http, tenant)


@pytest.fixture
def sid(http, tenant, tree_id):
    return start_session(http, tenant, tree_id)


def files_of(server, tenant) -> list[str]:
    folder = server.data_dir / "attachments" / tenant.id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def get(http, who, sid, att_id):
    return http.get(f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=who.headers)


# --- storing and reading ------------------------------------------------------------------------


def test_upload_stores_the_file_and_answers_the_event_body(server, http, tenant, sid):
    data, att_id = png(), new_id()
    r = upload(http, tenant, sid, data, name="VDA event log.png", attachment_id=att_id, sha256=sha(data))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] is True and body["status"] == "stored"
    assert body["event"] == {
        "type": "attachment_added",
        "node_id": "scope",
        "attachment_id": att_id,
        "name": "VDA event log.png",
        "content_type": "image/png",
        "size": len(data),
        "sha256": sha(data),
    }
    assert body["uploaded_by"] == tenant.me["user"]["id"] and body["uploaded_at"].endswith("Z")
    assert files_of(server, tenant) == [att_id]
    assert (server.data_dir / "attachments" / tenant.id / att_id).read_bytes() == data

    r = get(http, tenant, sid, att_id)
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["etag"] == f'"{sha(data)}"'
    assert r.headers["content-disposition"].startswith("inline;")


def test_multipart_upload_and_text_logs_download_as_files(server, http, tenant, sid):
    log = "2026-11-26 01:02:03 ERROR VDA failed to register\nUmlaut ü, 日本語\n".encode()
    r = http.post(
        f"/api/v1/sessions/{sid}/attachments",
        headers=tenant.headers,
        files={"file": ("../../etc/broker.log", log, "image/png")},
        data={"node_id": "service", "caption": "Broker log"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    # The declared type counts for nothing; the name loses its folders.
    assert body["content_type"] == "text/plain" and body["name"] == "broker.log"
    assert body["event"]["caption"] == "Broker log" and body["node_id"] == "service"
    assert len(body["attachment_id"]) == 26  # made by the server when the client sent none
    r = get(http, tenant, sid, body["attachment_id"])
    assert r.content == log and r.headers["content-disposition"].startswith("attachment;")
    assert "broker.log" in r.headers["content-disposition"]


def test_retrying_the_same_upload_never_stores_twice(server, http, tenant, sid):
    data, att_id = png(color=(1, 2, 3)), new_id()
    first = upload(http, tenant, sid, data, attachment_id=att_id, sha256=sha(data))
    again = upload(http, tenant, sid, data, attachment_id=att_id, sha256=sha(data))
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert {k: v for k, v in again.json().items() if k != "created"} == {
        k: v for k, v in first.json().items() if k != "created"
    }
    assert files_of(server, tenant) == [att_id]
    # Other bytes under the same id are a conflict, and the stored file stays as it was.
    r = upload(http, tenant, sid, png(color=(9, 9, 9)), attachment_id=att_id)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert get(http, tenant, sid, att_id).content == data


def test_record_event_writes_one_attachment_added_even_when_retried(http, tenant, sid):
    data, att_id = png(color=(5, 5, 5)), new_id()
    for expected in (201, 200):
        r = upload(
            http,
            tenant,
            sid,
            data,
            attachment_id=att_id,
            node_id="scope",
            record_event="true",
            device_id="api-test",
            caption="Studio shows Unregistered",
        )
        assert r.status_code == expected, r.text
        assert r.json()["recorded_event"]["_id"] == f"session:{sid}:ev:{att_id}"
    state = http.get(f"/api/v1/sessions/{sid}", headers=tenant.headers).json()
    assert [a["attachment_id"] for a in state["attachments"]["scope"]] == [att_id]
    att = state["attachments"]["scope"][0]
    assert (att["sha256"], att["size"], att["caption"], att["device_id"]) == (
        sha(data),
        len(data),
        "Studio shows Unregistered",
        "api-test",
    )
    events = http.get(
        f"/sync/{tenant.id}/sessions/_all_docs",
        headers=tenant.headers,
        params={"startkey": f'"session:{sid}:ev:"', "endkey": f'"session:{sid}:ev:\ufff0"'},
    ).json()
    assert [row["id"] for row in events["rows"]] == [f"session:{sid}:ev:{att_id}"]


# --- refusals: each says why, and stores nothing ------------------------------------------------------


@pytest.mark.parametrize(
    "payload,words",
    [
        (EXE, "Windows executable"),
        (ELF, "Linux executable"),
        (SHEBANG, "script"),
        (b"\xef\xbb\xbf" + SHEBANG, "script"),
    ],
    ids=["exe", "elf", "shebang", "bom-shebang"],
)
def test_an_executable_named_png_is_refused_and_not_stored(server, http, tenant, sid, payload, words):
    att_id = new_id()
    r = http.post(
        f"/api/v1/sessions/{sid}/attachments",
        headers={**tenant.headers, "Content-Type": "image/png"},
        params={"name": "screenshot.png", "node_id": "scope", "attachment_id": att_id},
        content=payload,
    )
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "bad_content_type" and words in r.json()["reason"]
    assert files_of(server, tenant) == []
    assert get(http, tenant, sid, att_id).status_code == 404


def test_binary_garbage_and_zip_archives_are_refused(server, http, tenant, sid):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.exe", EXE)
    for payload, words in (
        (b"\x00\x01\x02binary", "not a type"),
        (buf.getvalue(), "ZIP archive"),
        (b"\x89PNG\r\n\x1a\nnot really a png", "cannot be decoded"),
    ):
        r = upload(http, tenant, sid, payload)
        assert r.status_code == 415 and words in r.json()["reason"], r.text
    assert files_of(server, tenant) == []


def test_oversize_is_refused_against_the_tenants_limit(server, http, tenant, sid):
    r = http.put("/api/v1/attachment-settings", headers=tenant.headers, json={"max_size_mb": 0.01})
    assert r.status_code == 200 and r.json()["max_size_bytes"] == 10485
    big = png(600, 600) + b"\x00" * 20_000
    r = upload(http, tenant, sid, big)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert "0.01 MB" in r.json()["reason"] or "10,485" in r.json()["reason"]
    # Also when the body arrives in chunks without a Content-Length.
    r = http.post(
        f"/api/v1/sessions/{sid}/attachments",
        headers=tenant.headers,
        params={"name": "big.png", "node_id": "scope"},
        content=iter([big[:8000], big[8000:]]),
    )
    assert r.status_code == 413, r.text
    assert files_of(server, tenant) == []
    small = png(10, 10)
    assert upload(http, tenant, sid, small).status_code == 201


def test_types_the_tenant_does_not_accept_are_refused(server, http, tenant, sid):
    r = http.put(
        "/api/v1/attachment-settings",
        headers=tenant.headers,
        json={"allowed_types": ["image/png", "image/jpeg"]},
    )
    assert r.status_code == 200 and r.json()["allowed_types"] == ["image/png", "image/jpeg"]
    r = upload(http, tenant, sid, b"%PDF-1.7\n%fake but pdf-shaped\n", name="report.pdf")
    assert r.status_code == 415 and "PDF document" in r.json()["reason"]
    assert files_of(server, tenant) == []
    r = http.put("/api/v1/attachment-settings", headers=tenant.headers, json={"allowed_types": ["image/bmp"]})
    assert r.status_code == 400 and "image/bmp" in r.json()["reason"]


def test_a_damaged_upload_is_refused_by_its_checksum(server, http, tenant, sid):
    data = png()
    r = upload(http, tenant, sid, data, sha256=sha(data + b"x"))
    assert r.status_code == 400 and r.json()["error"] == "checksum_mismatch"
    assert files_of(server, tenant) == []


def test_unknown_node_and_missing_fields_are_400(http, tenant, sid):
    r = upload(http, tenant, sid, png(), node_id="no-such-step")
    assert r.status_code == 400 and "no-such-step" in r.json()["reason"]
    r = upload(http, tenant, sid, png(), attachment_id="../../etc/passwd")
    assert r.status_code == 400


def test_only_admins_change_the_limits_and_everyone_reads_them(http, tenant):
    engineer = tenant.add_user("engineer")
    r = http.get("/api/v1/attachment-settings", headers=engineer.headers)
    assert r.status_code == 200
    assert r.json()["storage"] == "folder" and r.json()["presigned_uploads"] is False
    assert r.json()["strip_image_metadata"] is False and r.json()["max_size_mb"] == 25
    r = http.put("/api/v1/attachment-settings", headers=engineer.headers, json={"max_size_mb": 100})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = http.put("/api/v1/attachment-settings", headers=tenant.headers, json={"max_size_mb": 1000})
    assert r.status_code == 400


def test_presign_is_not_offered_by_the_folder_store(http, tenant, sid):
    r = http.post(
        f"/api/v1/sessions/{sid}/attachments/presign",
        headers=tenant.headers,
        json={"node_id": "scope", "size": 10, "sha256": "0" * 64},
    )
    assert r.status_code == 501 and "POST the file" in r.json()["reason"]


# --- who may write and read -----------------------------------------------------------------------------


def test_a_session_not_yours_is_forbidden_and_stores_nothing(server, http, tenant, tree_id):
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    alices = start_session(http, alice, tree_id)
    r = upload(http, bob, alices, png())
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    viewer = tenant.add_user("viewer")
    assert upload(http, viewer, alices, png()).status_code == 403
    assert files_of(server, tenant) == []
    # Shared with Bob: now he may.
    header = http.get(f"/api/v1/sessions/{alices}", headers=alice.headers).json()["header"]
    r = http.patch(
        f"/api/v1/sessions/{alices}",
        headers=alice.headers,
        json={"_rev": header["_rev"], "shared_with": [bob.id]},
    )
    assert r.status_code == 200, r.text
    r = upload(http, bob, alices, png())
    assert r.status_code == 201
    att_id = r.json()["attachment_id"]
    assert get(http, alice, alices, att_id).status_code == 200
    carol = tenant.add_user("engineer")
    assert get(http, carol, alices, att_id).status_code == 403


def test_an_attachment_is_read_only_through_its_own_session(http, tenant, tree_id):
    one, two = start_session(http, tenant, tree_id), start_session(http, tenant, tree_id)
    data, att_id = png(), new_id()
    assert upload(http, tenant, one, data, attachment_id=att_id).status_code == 201
    r = get(http, tenant, two, att_id)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    # Nor can the id be re-used for another session's file.
    r = upload(http, tenant, two, data, attachment_id=att_id)
    assert r.status_code == 409


def test_another_tenants_attachment_and_session_are_not_found(server, http, make_tenant):
    a, b = make_tenant(), make_tenant()
    b_sid = start_session(http, b, publish_tree(http, b))
    data, att_id = png(), new_id()
    assert upload(http, b, b_sid, data, attachment_id=att_id).status_code == 201
    assert get(http, a, b_sid, att_id).status_code == 404
    r = upload(http, a, b_sid, png())
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    # The same id in A's own session is A's own, separate attachment.
    a_sid = start_session(http, a, publish_tree(http, a))
    assert get(http, a, a_sid, att_id).status_code == 404
    other = png(color=(0, 0, 0))
    assert upload(http, a, a_sid, other, attachment_id=att_id).status_code == 201
    assert get(http, b, b_sid, att_id).content == data
    assert get(http, a, a_sid, att_id).content == other
    assert files_of(server, a) == [att_id] and files_of(server, b) == [att_id]


# --- image metadata -------------------------------------------------------------------------------------


def test_images_keep_their_bytes_unless_the_tenant_asks_to_strip(http, tenant, sid):
    photo = jpeg_with_gps()
    r = upload(http, tenant, sid, photo, name="photo.jpg")
    assert r.status_code == 201 and r.json()["metadata_stripped"] is False
    assert exif_of(get(http, tenant, sid, r.json()["attachment_id"]).content)["gps"]


def test_stripping_removes_exif_gps_and_png_text(http, tenant, sid):
    assert (
        http.put(
            "/api/v1/attachment-settings", headers=tenant.headers, json={"strip_image_metadata": True}
        ).status_code
        == 200
    )
    photo = jpeg_with_gps()
    assert exif_of(photo)["gps"], "the test photo must carry GPS to begin with"
    r = upload(http, tenant, sid, photo, name="photo.jpg", sha256=sha(photo))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["metadata_stripped"] is True and body["original_sha256"] == sha(photo)
    stored = get(http, tenant, sid, body["attachment_id"]).content
    assert body["sha256"] == sha(stored) != sha(photo) and body["size"] == len(stored)
    assert body["event"]["sha256"] == sha(stored)  # the evidence checksum is the stored file's
    meta = exif_of(stored)
    assert meta["gps"] == {} and 0x0110 not in meta["tags"] and "exif" not in meta["info_keys"]
    # A retry of the original bytes is recognised as the same upload.
    again = upload(http, tenant, sid, photo, name="photo.jpg", attachment_id=body["attachment_id"])
    assert again.status_code == 200

    shot = png_with_text_and_exif()
    r = upload(http, tenant, sid, shot)
    meta = exif_of(get(http, tenant, sid, r.json()["attachment_id"]).content)
    assert meta["gps"] == {} and "Comment" not in meta["info_keys"]


# --- exports ---------------------------------------------------------------------------------


def test_exports_list_the_attachment_under_its_step_and_embed_it_in_pdf_and_html(tmp_path, http, tenant, sid):
    r = http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=tenant.headers,
        json={"type": "answered", "node_id": "scope", "answer": "yes"},
    )
    assert r.status_code == 201, r.text
    shot = png(800, 500, (250, 10, 10))
    r = upload(http, tenant, sid, shot, name="studio-unregistered.png", node_id="scope", record_event="true")
    assert r.status_code == 201
    md = http.get(
        f"/api/v1/sessions/{sid}/export", headers=tenant.headers, params={"format": "markdown"}
    ).text
    # Under its step: after the step's sentence, before the next step's.
    after_step = md.split("Scoped the issue to a single VDA.", 1)[1]
    assert "Attachment: studio-unregistered.png" in after_step.split("Which VDA?", 1)[0], md
    html = http.get(f"/api/v1/sessions/{sid}/export", headers=tenant.headers, params={"format": "html"}).text
    assert "data:image/png;base64," in html
    pdf = http.get(f"/api/v1/sessions/{sid}/export", headers=tenant.headers, params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf.content)
    if shutil.which("pdfimages"):
        listing = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
        )
        rows = listing.stdout.strip().splitlines()[2:]
        assert len(rows) == 1 and rows[0].split()[3:5] == ["800", "500"], listing.stdout
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
        assert text.index("Scoped the issue") < text.index("studio-unregistered.png")


# --- the event never precedes the file ----------------------------------------------------------


def test_an_attachment_event_without_its_stored_file_is_refused(http, tenant, tree_id, sid):
    """Regression: an `attachment_added` event for a file the server does not have would make
    every export list a missing file; the API and sync both refuse it."""
    att_id = new_id()
    event = {
        "type": "attachment_added",
        "node_id": "scope",
        "attachment_id": att_id,
        "name": "ghost.png",
        "content_type": "image/png",
        "size": 10,
        "sha256": "0" * 64,
    }
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json=event)
    assert r.status_code == 403 and "upload the file first" in r.json()["reason"]
    sync = tenant.me["sync"]["databases"]["sessions"]
    doc = {**event, "session_id": sid, "ts": 1, "device_id": "d", "user_id": tenant.me["user"]["id"]}
    r = http.put(f"{sync}/session:{sid}:ev:{att_id}", headers=tenant.headers, json=doc)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    # Once the file is stored, the same event is accepted.
    data = png()
    assert upload(http, tenant, sid, data, name="ghost.png", attachment_id=att_id).status_code == 201
    event.update(size=len(data), sha256=sha(data))
    r = http.post(f"/api/v1/sessions/{sid}/events", headers=tenant.headers, json=event)
    assert r.status_code == 201, r.text
    # A file stored for another session does not count.
    other = start_session(http, tenant, tree_id)
    r = http.post(
        f"/api/v1/sessions/{other}/events", headers=tenant.headers, json={**event, "node_id": "scope"}
    )
    assert r.status_code == 403


def test_an_uploaded_image_is_prepared_for_pdf_exports_once(server, http, tenant, sid):
    """Uploading a screenshot prepares it for PDFs in the background (a disk cache keyed by
    its SHA-256), so a session's first PDF export only embeds ready JPEGs."""
    from tests.conftest import wait_until

    data = png()
    assert upload(http, tenant, sid, data, name="shot.png", attachment_id=new_id()).status_code == 201
    cached = server.data_dir / "cache" / "pdf-images" / sha(data)[:2] / sha(data)
    wait_until(cached.exists, timeout=15, message="the prepared image in the cache")
    assert cached.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
