"""Images: a decode check, and re-encoding that drops metadata (EXIF, GPS, text chunks).

Phone photos carry the place they were taken (EXIF GPS) and the device; a tenant can ask
for every image to be re-encoded so none of that reaches the server. The pixels are kept
as they look (EXIF orientation is applied first), in the same format.
"""

from __future__ import annotations

import io
import warnings

from sync.errors import PayloadTooLarge, UnsupportedMediaType

from .sniff import GIF, JPEG, PNG, WEBP

# A screenshot or photo; bigger is a decompression bomb, not evidence.
MAX_PIXELS = 80_000_000


def _open(data: bytes):
    from PIL import Image  # noqa: PLC0415

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.load()
        return img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge(
            f"The image has more than {MAX_PIXELS:,} pixels; attach a smaller screenshot or photo."
        ) from None
    except Exception:  # noqa: BLE001 - any decoder error means the bytes are not a usable image
        raise UnsupportedMediaType(
            "The file starts like an image but cannot be decoded (it is damaged "
            "or not really an image); attach the original file again."
        ) from None


def check_image(data: bytes) -> None:
    """Raise UnsupportedMediaType when `data` is not a decodable image."""
    _open(data).close()


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """The image re-encoded without metadata, in its own format; GIFs (no EXIF) unchanged."""
    if content_type == GIF:
        check_image(data)
        return data
    from PIL import ImageOps  # noqa: PLC0415

    img = _open(data)
    try:
        img = ImageOps.exif_transpose(img)  # keep what the photo looks like, drop the tag
        out = io.BytesIO()
        if content_type == JPEG:
            if img.mode not in ("RGB", "L", "CMYK"):
                img = img.convert("RGB")
            img.save(out, format="JPEG", quality=90, optimize=True)
        elif content_type == PNG:
            clean = img.copy()
            clean.info = {}
            clean.save(out, format="PNG", optimize=True)
        elif content_type == WEBP:
            img.save(out, format="WEBP", quality=90)
        else:
            return data
        return out.getvalue()
    finally:
        img.close()
