"""The pure parts: type sniffing by content, and the folder store's all-or-nothing writes."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from api.attachments import sniff as sn
from api.attachments.storage import FolderStorage
from sync.errors import BadRequest, UnsupportedMediaType
from tests.attachments.helpers import ELF, EXE, SHEBANG, jpeg_with_gps, png


def ooxml(folder: str, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(f"{folder}/document.xml", "<doc/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data,expected",
    [
        (png(4, 4), sn.PNG),
        (jpeg_with_gps(), sn.JPEG),
        (b"GIF89a\x01\x00", sn.GIF),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", sn.WEBP),
        (b"%PDF-1.7\n", sn.PDF),
        (b"Ereignis 1002: VDA nicht registriert\n", sn.TEXT),
        (ooxml("word"), sn.DOCX),
        (ooxml("xl"), sn.XLSX),
        (ooxml("ppt"), sn.PPTX),
    ],
)
def test_known_types_are_read_from_the_bytes(data, expected):
    assert sn.sniff(data).content_type == expected


@pytest.mark.parametrize(
    "data",
    [
        EXE,
        ELF,
        SHEBANG,
        b"\xef\xbb\xbf#!/usr/bin/env python\n",
        b"\xcf\xfa\xed\xfe\x07\x00\x00\x01",
        b"\xca\xfe\xba\xbe\x00\x00",
    ],
)
def test_executables_are_refused_whatever_follows(data):
    with pytest.raises(UnsupportedMediaType):
        sn.sniff(data)


@pytest.mark.parametrize(
    "data,words",
    [
        (b"", "empty"),
        (b"text with a NUL\x00", "not a type"),
        (b"\xff\xfe\x00\x00", "not a type"),
        (ooxml("word", {"word/vbaProject.bin": b"macro"}), "macros"),
        (b"PK\x03\x04garbage", "ZIP"),
    ],
)
def test_other_content_is_refused_saying_why(data, words):
    with pytest.raises(UnsupportedMediaType) as info:
        sn.sniff(data)
    assert words in info.value.reason


def test_folder_store_round_trip_and_per_tenant_folders(tmp_path):
    store = FolderStorage(tmp_path)
    store.put("tenanta1", "01ABC", b"one", "text/plain")
    store.put("tenantb2", "01ABC", b"two", "text/plain")
    assert store.get("tenanta1", "01ABC") == b"one" and store.get("tenantb2", "01ABC") == b"two"
    assert store.exists("tenanta1", "01ABC") and not store.exists("tenanta1", "01XYZ")
    store.delete("tenanta1", "01ABC")
    assert store.get("tenanta1", "01ABC") is None and store.get("tenantb2", "01ABC") == b"two"
    with pytest.raises(BadRequest):
        store.put("tenanta1", "../escape", b"x", "text/plain")
    with pytest.raises(BadRequest):
        store.get("../../etc", "passwd")


def test_a_failed_folder_write_leaves_nothing_behind(tmp_path, monkeypatch):
    store = FolderStorage(tmp_path)
    store.put("tenanta1", "01OLD", b"kept", "text/plain")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        store.put("tenanta1", "01NEW", b"half", "text/plain")
    with pytest.raises(OSError):
        store.put("tenanta1", "01OLD", b"replacement", "text/plain")
    assert sorted(p.name for p in (tmp_path / "tenanta1").iterdir()) == ["01OLD"]
    assert store.get("tenanta1", "01OLD") == b"kept"
