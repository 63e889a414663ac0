"""An attachment's type, read from its bytes: never from its name or its declared type.

`sniff(data)` answers a `Sniffed(content_type, label)` for the types Branchline knows, or
raises `UnsupportedMediaType` saying why: executables (Windows PE, ELF, Mach-O, scripts
starting with `#!`) are refused whatever their name, and so is anything unrecognised.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from sync.errors import UnsupportedMediaType

PNG, JPEG, GIF, WEBP = "image/png", "image/jpeg", "image/gif", "image/webp"
PDF, TEXT = "application/pdf", "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

IMAGE_TYPES = (PNG, JPEG, GIF, WEBP)
KNOWN_TYPES: dict[str, str] = {
    PNG: "PNG image",
    JPEG: "JPEG image",
    GIF: "GIF image",
    WEBP: "WebP image",
    PDF: "PDF document",
    TEXT: "plain text or log",
    DOCX: "Word document (.docx)",
    XLSX: "Excel workbook (.xlsx)",
    PPTX: "PowerPoint presentation (.pptx)",
}
EXTENSIONS = {
    PNG: ".png",
    JPEG: ".jpg",
    GIF: ".gif",
    WEBP: ".webp",
    PDF: ".pdf",
    TEXT: ".txt",
    DOCX: ".docx",
    XLSX: ".xlsx",
    PPTX: ".pptx",
}

# Executable formats, refused even when named screenshot.png.
_EXECUTABLES = (
    (b"MZ", "a Windows executable (PE/MZ)"),
    (b"\x7fELF", "a Linux executable (ELF)"),
    (b"\xfe\xed\xfa\xce", "a macOS executable (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "a macOS executable (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "a macOS executable (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "a macOS universal binary or Java class file"),
    (b"#!", "a script (it starts with #!)"),
)
_OOXML = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}


@dataclass(frozen=True)
class Sniffed:
    content_type: str

    @property
    def label(self) -> str:
        return KNOWN_TYPES[self.content_type]

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


def _allowed_list() -> str:
    return ", ".join(KNOWN_TYPES.values())


def executable_kind(data: bytes) -> str | None:
    """What kind of executable `data` is, or None. A UTF-8 BOM does not hide a shebang."""
    head = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    for magic, what in _EXECUTABLES:
        if head.startswith(magic):
            return what
    return None


def _ooxml_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for prefix, mime in _OOXML.items():
        if any(n.startswith(prefix) for n in names):
            # Macro-enabled documents carry code; they are refused like executables.
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise UnsupportedMediaType(
                    "This Office document contains macros (vbaProject.bin); "
                    "save it without macros (.docx/.xlsx/.pptx) and attach it again."
                )
            return mime
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(data: bytes) -> Sniffed:
    """The type of `data` by its content, or UnsupportedMediaType saying what it is instead."""
    if not data:
        raise UnsupportedMediaType("The file is empty; attach a file with content.")
    what = executable_kind(data)
    if what:
        raise UnsupportedMediaType(
            f"The file is {what}; executables and scripts cannot be attached, "
            "whatever their name. Attach a screenshot, a PDF or a text log instead."
        )
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(PNG)
    if data.startswith(b"\xff\xd8\xff"):
        return Sniffed(JPEG)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed(GIF)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed(WEBP)
    if data.startswith(b"%PDF-"):
        return Sniffed(PDF)
    if data.startswith(b"PK\x03\x04"):
        mime = _ooxml_type(data)
        if mime:
            return Sniffed(mime)
        raise UnsupportedMediaType(
            "The file is a ZIP archive; archives cannot be attached (they may hide "
            f"anything). Attach the files themselves: {_allowed_list()}."
        )
    if _is_text(data):
        return Sniffed(TEXT)
    raise UnsupportedMediaType(
        f"The file's content is not a type Branchline accepts ({_allowed_list()}); "
        "its name or declared type does not count, only its bytes."
    )
