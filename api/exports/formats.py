"""One renderer per format over the view model from `render.build_export_model`.

Markdown and text always use the built-in templates (the PWA renders the same bytes
offline). HTML, PDF and ConnectWise use a tenant's override when one is given, rendered in
the sandbox; overrides were checked when saved, and should one still fail (a model field it
relied on is absent for this session), the built-in template is used rather than failing
the export, and the result says so (`used_fallback`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import templates as tpl

FetchAttachment = Callable[[str], "bytes | None"]
"""Gives an attachment's bytes by id, or None when they are not (yet) available."""

TenantRenderer = Callable[[str, str, dict], str]
"""Renders a tenant's template source (format, source, context), raising
`templates.TemplateProblem`; the server's runs it in a worker process (`sandbox.py`)."""

ATTACHMENT_SCHEME = "attachment:"
# The PDF's URL for the tenant's logo: `~` never appears in an attachment id, so no
# attachment can stand in for the logo or the other way round.
BRAND_LOGO_ID = "~brand-logo"

_TICKET_NUMBER = re.compile(r"^#?([0-9]{1,9})$")


@dataclass
class Rendered:
    body: Any
    used_fallback: bool = False


def render_markdown(model: dict) -> str:
    """The Markdown export (built-in template only; the PWA renders the same bytes)."""
    return tpl.tidy(tpl.builtin_template("markdown").render(m=model))


def render_text(model: dict) -> str:
    """The plain-text export (built-in template only; the PWA renders the same bytes)."""
    return tpl.tidy(tpl.builtin_template("text").render(m=model))


def brand_context(brand: dict | None, logo_src: str | None) -> dict | None:
    """What the HTML and PDF templates see as `brand`: the name, the colour with the text
    colour that reads on it, the logo's URL (`logo_src`, or None) and the footer line; None
    for a tenant with no brand of its own, whose exports stay as they were."""
    if not brand or not (brand.get("primary_color") or brand.get("logo")):
        return None
    return {
        "name": brand["name"],
        "color": brand.get("primary_color"),
        "on_color": brand.get("on_primary"),
        "logo": logo_src if brand.get("logo") else None,
        "footer": f"Prepared by {brand['name']}",
    }


def render_html(
    model: dict,
    fetch_attachment: FetchAttachment | None = None,
    template_source: str | None = None,
    renderer: TenantRenderer | None = None,
    brand: dict | None = None,
) -> Rendered:
    """A standalone HTML page; images (and the brand's logo) are embedded as data URIs so
    the file travels alone. `brand` is the tenant's brand as `api.brand` answers it."""
    images = embedded_images(model, fetch_attachment)
    logo = (brand or {}).get("logo") or {}
    context = {"m": model, "images": images, "brand": brand_context(brand, logo.get("data_url"))}
    return _render("html", template_source, context, renderer)


def embedded_images(model: dict, fetch_attachment: FetchAttachment | None) -> dict[str, str]:
    """Attachment id -> `data:` URI of each image the model lists whose bytes are available
    and really are an image (by content, whatever the upload claimed)."""
    images = {}
    for att in _image_attachments(model):
        data = fetch_attachment(att["id"]) if fetch_attachment else None
        mime = sniff_image(data)
        if mime and data:
            images[att["id"]] = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return images


def render_connectwise(
    model: dict, template_source: str | None = None, renderer: TenantRenderer | None = None
) -> Rendered:
    """A ConnectWise PSA internal note plus the fields of a time entry, as JSON-ready dict.

    Field names follow ConnectWise Manage's REST API (service ticket notes and time
    entries), so a connector can post them as they are. `chargeToId` is the ticket number
    when the session's ticket is one (digits, optionally after `#`), else null.
    """
    note = _render("connectwise", template_source, {"m": model}, renderer)
    text = tpl.tidy(note.body)
    match = _TICKET_NUMBER.match(model.get("ticket") or "")
    fix = model["summary"]["fix"]
    outcome = model["outcome"]
    resolution_text = fix or outcome["label"] + (f": {outcome['title']}" if outcome["title"] else "")
    times = model["times"]
    return Rendered(
        {
            "ticket": model.get("ticket"),
            "note": {
                "text": text,
                "detailDescriptionFlag": False,
                "internalAnalysisFlag": True,
                "resolutionFlag": False,
            },
            "time_entry": {
                "chargeToType": "ServiceTicket",
                "chargeToId": int(match.group(1)) if match else None,
                "timeStart": times["started"],
                "timeEnd": times["ended"],
                "actualHours": times["hours"],
                "notes": resolution_text,
                "addToDetailDescriptionFlag": False,
                "addToInternalAnalysisFlag": False,
                "addToResolutionFlag": True,
            },
        },
        note.used_fallback,
    )


def render_json(model: dict, state: dict) -> bytes:
    """The view model and the folded session state, for scripts and other tools."""
    return orjson.dumps({"schema_version": 1, "export": model, "session": state}, option=orjson.OPT_INDENT_2)


def render_pdf(
    model: dict,
    fetch_attachment: FetchAttachment | None = None,
    template_source: str | None = None,
    renderer: TenantRenderer | None = None,
    brand: dict | None = None,
    brand_logo: bytes | None = None,
) -> Rendered:
    """A PDF through WeasyPrint. The document may fetch only our own attachments
    (`attachment:ID` URLs, served by `fetch_attachment`) and the brand's logo (`brand_logo`
    at `attachment:~brand-logo`); every other URL is refused, so a template or a note can
    never make the server reach the network or the disk."""
    from weasyprint import HTML  # noqa: PLC0415  (heavy import, needed only here)

    ids = list(dict.fromkeys(att["id"] for att in _image_attachments(model))) if fetch_attachment else []
    # Images are fetched and prepared in a pool while WeasyPrint parses and styles the
    # document; its fetcher waits for each one when layout reaches it.
    pending = (
        {att_id: _image_pool().submit(_fetch_prepared, fetch_attachment, att_id) for att_id in ids}
        if fetch_attachment
        else {}
    )
    images = {att_id: ATTACHMENT_SCHEME + att_id for att_id in pending}
    branding = brand_context(brand, ATTACHMENT_SCHEME + BRAND_LOGO_ID if brand_logo else None)
    html = _render("pdf", template_source, {"m": model, "images": images, "brand": branding}, renderer)

    def fetch(att_id: str) -> bytes | None:
        if att_id == BRAND_LOGO_ID:
            return brand_logo
        return pending[att_id].result() if att_id in pending else None

    fetcher = AttachmentOnlyFetcher(fetch)
    pdf = HTML(string=html.body, url_fetcher=fetcher, base_url=None).write_pdf()
    return Rendered(pdf, html.used_fallback)


def _fetch_prepared(fetch_attachment: FetchAttachment, attachment_id: str) -> bytes | None:
    return prepare_pdf_image(fetch_attachment(attachment_id))


def prepare_pdf_image(data: bytes | None) -> bytes | None:
    """An image as a JPEG WeasyPrint can embed without decoding it (it re-encodes every
    other format, which is most of a PDF's time): PNG, GIF and WebP are flattened onto
    white, photos larger than the page needs are scaled down, JPEGs of sane size pass as
    they are. Results are cached by content (attachments never change), so a preview
    followed by the download decodes each image once. None for anything that is not an
    image Pillow can read."""
    mime = sniff_image(data)
    if mime is None or data is None:
        return None
    key = hashlib.sha256(data).hexdigest()
    with _CACHE_LOCK:
        if key in _PREPARED:
            _PREPARED.move_to_end(key)
            return _PREPARED[key]
    prepared = _read_disk_cache(key)
    if prepared is None:
        try:
            prepared = _to_jpeg(data, mime)
        except Exception:  # noqa: BLE001 - a broken or hostile file is listed, not embedded
            prepared = None
        _write_disk_cache(key, prepared)
    elif prepared == b"":
        prepared = None  # remembered as not embeddable
    with _CACHE_LOCK:
        _PREPARED[key] = prepared
        while len(_PREPARED) > _CACHE_ENTRIES:
            _PREPARED.popitem(last=False)
    return prepared


def _to_jpeg(data: bytes, mime: str) -> bytes:
    from PIL import Image  # noqa: PLC0415

    image: Image.Image = Image.open(io.BytesIO(data))
    if image.width * image.height > _MAX_PIXELS:
        raise ValueError("image too large to embed")
    if mime == "image/jpeg" and image.mode in ("RGB", "L") and max(image.size) <= _MAX_SIDE:
        return data
    image.draft("RGB", (_MAX_SIDE, _MAX_SIDE))  # JPEG: decode at a reduced scale when it can
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    else:
        image = image.convert("RGB")
    if max(image.size) > _MAX_SIDE:
        image.thumbnail((_MAX_SIDE, _MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, subsampling=0)
    return out.getvalue()


_MAX_SIDE = 2000  # px: sharp at full text width (178 mm) at about 285 dpi
_MAX_PIXELS = 60_000_000  # refuse decompression bombs outright
_CACHE_ENTRIES = 256
_PREPARED: OrderedDict[str, bytes | None] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
# Prepared images also live on disk (a rebuildable cache, keyed by the original's SHA-256):
# the attachments feature prepares each image once when it is uploaded, so even the first
# PDF of a session only embeds ready JPEGs.
_DISK_CACHE: Path | None = None


def configure_image_cache(folder: Path | None) -> None:
    global _DISK_CACHE
    _DISK_CACHE = folder


def _read_disk_cache(key: str) -> bytes | None:
    if _DISK_CACHE is None:
        return None
    try:
        return (_DISK_CACHE / key[:2] / key).read_bytes()
    except OSError:
        return None


def _write_disk_cache(key: str, prepared: bytes | None) -> None:
    if _DISK_CACHE is None:
        return
    folder = _DISK_CACHE / key[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{threading.get_ident()}"
        tmp.write_bytes(prepared or b"")  # empty: not embeddable, do not try again
        tmp.replace(folder / key)
    except OSError:
        pass  # a cache: the next export prepares it again


def warm_image(data: bytes) -> None:
    """Prepare an image for PDFs in the background (called when an attachment is stored)."""
    if sniff_image(data) is not None:
        _image_pool().submit(prepare_pdf_image, data)


def _image_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="pdf-images")
    return _POOL


def close_image_pool() -> None:
    """Wait for images being prepared, then end the pool's threads (the app's shutdown)."""
    global _POOL
    pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True)


def sniff_image(data: bytes | None) -> str | None:
    """The image type by content (never by the name or claimed type): PNG, JPEG, GIF, WebP."""
    if not data:
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image_attachments(model: dict) -> list[dict]:
    holders = [*model["steps"], *model["other_notes"], model["outcome"]]
    return [a for h in holders for a in h["attachments"] if a["is_image"] and a["id"]]


def render_in_process(fmt: str, source: str, context: dict) -> str:
    """A tenant template rendered in this process: budgets on loops and output, but no time
    or memory limit (tools and tests; the server uses `sandbox.SandboxPool`)."""
    return tpl.render_tenant(tpl.compile_tenant(fmt, source), context)


def _render(fmt: str, source: str | None, context: dict, renderer: TenantRenderer | None = None) -> Rendered:
    if source is not None:
        try:
            return Rendered((renderer or render_in_process)(fmt, source, context))
        except tpl.TemplateProblem:
            pass  # checked when saved; for this session fall back rather than fail the export
    return Rendered(tpl.builtin_template(fmt).render(**context), used_fallback=source is not None)


def _refused(url: str) -> ValueError:
    return ValueError(f"exports fetch only their own attachments; refused {url[:80]!r}")


def _make_fetcher_class():
    try:
        from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: PLC0415  (WeasyPrint 66+)
    except ImportError:  # older WeasyPrint: a fetcher is any callable answering a dict
        URLFetcher, URLFetcherResponse = object, None

    class _AttachmentOnlyFetcher(URLFetcher):
        """WeasyPrint's fetcher, narrowed to `attachment:ID` URLs answered from our storage."""

        def __init__(self, fetch_attachment: FetchAttachment | None) -> None:
            if URLFetcherResponse is not None:
                super().__init__(allowed_protocols=["attachment"], allow_redirects=False)
            self._fetch_attachment = fetch_attachment
            self.requested: list[str] = []

        def fetch(self, url, headers=None):
            self.requested.append(url)
            if not url.startswith(ATTACHMENT_SCHEME) or self._fetch_attachment is None:
                raise _refused(url)
            data = self._fetch_attachment(url[len(ATTACHMENT_SCHEME) :])
            mime = sniff_image(data)
            if mime is None:
                raise _refused(url)
            if URLFetcherResponse is None:
                return {"string": data, "mime_type": mime, "redirected_url": url}
            return URLFetcherResponse(url, body=data, headers={"Content-Type": mime})

        def __call__(self, url):
            return self.fetch(url)

    return _AttachmentOnlyFetcher


def AttachmentOnlyFetcher(fetch_attachment: FetchAttachment | None):  # a class, made lazily
    """A WeasyPrint URL fetcher that serves `attachment:ID` and refuses everything else."""
    global _FETCHER_CLASS
    if _FETCHER_CLASS is None:
        _FETCHER_CLASS = _make_fetcher_class()
    return _FETCHER_CLASS(fetch_attachment)


_FETCHER_CLASS = None
