"""Attachments on S3 storage: a real server whose bucket lives in moto_server on a free port.

moto does not check pre-signed signatures or expiry, so what is ours is tested directly:
the expiry written into each URL, the key it is signed for (the tenant's incoming area),
who may ask for one, and what confirm accepts. A refused file is deleted from the bucket.
"""

from __future__ import annotations

import shutil
import subprocess
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.attachments.helpers import (
    EXE,
    confirm,
    exif_of,
    jpeg_with_gps,
    new_id,
    png,
    presign,
    publish_tree,
    put,
    sha,
    start_session,
    upload,
)
from tests.conftest import ServerProcess

BUCKET = "branchline-test"


@pytest.fixture(scope="module")
def server(tmp_path_factory, moto):
    env = {
        "BRANCHLINE_S3_ENDPOINT": moto.url,
        "BRANCHLINE_S3_BUCKET": BUCKET,
        "BRANCHLINE_S3_ACCESS_KEY": "testing",
        "BRANCHLINE_S3_SECRET_KEY": "testing-secret",
        "BRANCHLINE_S3_REGION": "us-east-1",
        # What docker-compose passes when the variable is not set: the same as leaving it out.
        "BRANCHLINE_S3_PUBLIC_ENDPOINT": "",
    }
    srv = ServerProcess(tmp_path_factory.mktemp("server-s3"), env=env).start()
    yield srv
    srv.stop()


@pytest.fixture
def s3(moto):
    return moto.client()


@pytest.fixture
def sid(http, tenant):
    return start_session(http, tenant, publish_tree(http, tenant))


def keys(s3, tenant) -> list[str]:
    try:
        res = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{tenant.id}/")
    except s3.exceptions.NoSuchBucket:
        return []
    return sorted(o["Key"] for o in res.get("Contents", []))


def test_presign_put_confirm_and_download_through_a_short_lived_url(http, tenant, sid, s3, moto):
    data, att_id = png(), new_id()
    r = presign(http, tenant, sid, data, attachment_id=att_id)
    assert r.status_code == 201, r.text
    answer = r.json()
    # Without BRANCHLINE_S3_PUBLIC_ENDPOINT, devices get the server's own address of the bucket.
    assert answer["upload"]["url"].startswith(f"{moto.url}/{BUCKET}/")
    url = urlparse(answer["upload"]["url"])
    query = parse_qs(url.query)
    # Our rules, written into the URL: five minutes, the tenant's incoming area, SigV4.
    assert query["X-Amz-Expires"] == ["300"] and answer["upload"]["expires_in"] == 300
    assert url.path == f"/{BUCKET}/{tenant.id}/incoming/{att_id}"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert (
        "content-length" in query["X-Amz-SignedHeaders"][0]
        and "content-type" in query["X-Amz-SignedHeaders"][0]
    )
    # Nothing is readable before confirm.
    assert http.get(f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=tenant.headers).status_code == 404

    assert put(answer, data).status_code == 200
    assert keys(s3, tenant) == [f"{tenant.id}/incoming/{att_id}"]
    r = confirm(http, tenant, sid, att_id)
    assert r.status_code == 200, r.text
    assert r.json()["event"] == {
        "type": "attachment_added",
        "node_id": "scope",
        "attachment_id": att_id,
        "name": "shot.png",
        "content_type": "image/png",
        "size": len(data),
        "sha256": sha(data),
    }
    assert keys(s3, tenant) == [f"{tenant.id}/{att_id}"]  # checked, moved, incoming cleared
    assert confirm(http, tenant, sid, att_id).json()["created"] is False  # confirming again is harmless

    r = http.get(
        f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=tenant.headers, follow_redirects=False
    )
    assert r.status_code == 307 and r.headers["location"].startswith(f"{moto.url}/{BUCKET}/")
    link = urlparse(r.headers["location"])
    assert parse_qs(link.query)["X-Amz-Expires"] == ["60"] and link.path == f"/{BUCKET}/{tenant.id}/{att_id}"
    got = httpx.get(r.headers["location"], timeout=30)
    assert got.status_code == 200 and got.content == data
    r = http.get(
        f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=tenant.headers, params={"redirect": "false"}
    )
    assert r.json()["expires_in"] == 60 and r.json()["attachment"]["sha256"] == sha(data)


def test_confirm_refuses_an_executable_and_deletes_it(http, tenant, sid, s3):
    att_id = new_id()
    answer = presign(http, tenant, sid, EXE, attachment_id=att_id, name="screenshot.png").json()
    assert put(answer, EXE).status_code == 200
    r = confirm(http, tenant, sid, att_id)
    assert r.status_code == 415 and "Windows executable" in r.json()["reason"]
    assert keys(s3, tenant) == []
    assert confirm(http, tenant, sid, att_id).status_code == 404  # the claim is gone too


def test_confirm_refuses_content_other_than_announced(http, tenant, sid, s3):
    data = png()
    other = data[:-20] + bytes(b ^ 0xFF for b in data[-20:])  # same length, damaged on the way
    att_id = new_id()
    answer = presign(http, tenant, sid, data, attachment_id=att_id).json()
    assert put(answer, other).status_code == 200
    r = confirm(http, tenant, sid, att_id)
    assert r.status_code == 400 and r.json()["error"] == "checksum_mismatch"
    assert keys(s3, tenant) == []


def test_confirm_before_the_upload_arrived_is_a_conflict(http, tenant, sid):
    data, att_id = png(), new_id()
    assert presign(http, tenant, sid, data, attachment_id=att_id).status_code == 201
    r = confirm(http, tenant, sid, att_id)
    assert r.status_code == 409 and "PUT the file" in r.json()["reason"]


def test_oversize_is_refused_before_any_url_is_signed(http, tenant, sid, s3):
    assert (
        http.put("/api/v1/attachment-settings", headers=tenant.headers, json={"max_size_mb": 1}).status_code
        == 200
    )
    r = http.post(
        f"/api/v1/sessions/{sid}/attachments/presign",
        headers=tenant.headers,
        json={"node_id": "scope", "size": 2 * 1024 * 1024, "sha256": "a" * 64},
    )
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    # A device that PUTs more than it announced never gets past confirm either.
    small, att_id = png(), new_id()
    answer = presign(http, tenant, sid, small, attachment_id=att_id).json()
    s3.put_object(Bucket=BUCKET, Key=f"{tenant.id}/incoming/{att_id}", Body=small + b"\x00" * (1024 * 1024))
    r = confirm(http, tenant, sid, att_id)
    assert r.status_code == 413 and keys(s3, tenant) == []
    assert answer["upload"]["url"]


def test_who_may_presign_confirm_and_download(http, tenant, make_tenant, s3):
    tree = publish_tree(http, tenant)
    alice, bob = tenant.add_user("engineer"), tenant.add_user("engineer")
    sid = start_session(http, alice, tree)
    data, att_id = png(), new_id()
    assert presign(http, bob, sid, data).status_code == 403
    answer = presign(http, alice, sid, data, attachment_id=att_id).json()
    put(answer, data)
    assert confirm(http, bob, sid, att_id).status_code == 403
    other = make_tenant()
    assert confirm(http, other, sid, att_id).status_code == 404
    assert presign(http, other, sid, data).status_code == 404
    assert confirm(http, alice, sid, att_id).status_code == 200
    assert (
        http.get(
            f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=bob.headers, follow_redirects=False
        ).status_code
        == 403
    )
    assert (
        http.get(
            f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=other.headers, follow_redirects=False
        ).status_code
        == 404
    )
    # Keys are per tenant: nothing of this tenant's sits under the other's prefix.
    assert keys(s3, other) == [] and keys(s3, tenant) == [f"{tenant.id}/{att_id}"]


def test_direct_upload_and_metadata_stripping_work_on_s3_too(http, tenant, sid, s3):
    assert (
        http.put(
            "/api/v1/attachment-settings", headers=tenant.headers, json={"strip_image_metadata": True}
        ).status_code
        == 200
    )
    photo = jpeg_with_gps()
    r = upload(http, tenant, sid, photo, name="photo.jpg", sha256=sha(photo))
    assert r.status_code == 201, r.text
    att_id = r.json()["attachment_id"]
    stored = s3.get_object(Bucket=BUCKET, Key=f"{tenant.id}/{att_id}")["Body"].read()
    assert sha(stored) == r.json()["sha256"] and exif_of(stored)["gps"] == {}


def test_pdf_export_embeds_an_image_stored_on_s3(tmp_path, http, tenant, sid):
    data, att_id = png(300, 200, (0, 90, 200)), new_id()
    answer = presign(http, tenant, sid, data, attachment_id=att_id).json()
    put(answer, data)
    assert confirm(http, tenant, sid, att_id, record_event="true").status_code == 200
    pdf = http.get(f"/api/v1/sessions/{sid}/export", headers=tenant.headers, params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "s3.pdf"
    path.write_bytes(pdf.content)
    if shutil.which("pdfimages"):
        listing = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
        )
        assert len(listing.stdout.strip().splitlines()[2:]) == 1, listing.stdout
    html = http.get(f"/api/v1/sessions/{sid}/export", headers=tenant.headers, params={"format": "html"}).text
    assert "data:image/png;base64," in html


def test_a_device_that_cannot_reach_the_bucket_falls_back_to_the_direct_route(http, tenant, sid, s3):
    """The PWA's fallback: presign answered, the PUT never arrived, the bytes come through the server."""
    data, att_id = png(color=(7, 7, 7)), new_id()
    assert presign(http, tenant, sid, data, attachment_id=att_id).status_code == 201
    r = upload(http, tenant, sid, data, attachment_id=att_id, sha256=sha(data))
    assert r.status_code == 201, r.text
    assert keys(s3, tenant) == [f"{tenant.id}/{att_id}"]
    r = http.get(
        f"/api/v1/sessions/{sid}/attachments/{att_id}", headers=tenant.headers, params={"proxy": "true"}
    )
    assert r.status_code == 200 and r.content == data and r.headers["x-content-type-options"] == "nosniff"
    # Other bytes cannot take over a live claim.
    other_id = new_id()
    assert presign(http, tenant, sid, data, attachment_id=other_id).status_code == 201
    r = upload(http, tenant, sid, png(color=(8, 8, 8)), attachment_id=other_id)
    assert r.status_code == 409
