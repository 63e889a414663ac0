"""Shared by the export tests: golden bundles, models, and real image bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from api.exports.render import build_export_model

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "exports"
SAMPLE = ROOT / "api" / "exports" / "sample_session.json"


def bundle(name: str) -> dict:
    path = SAMPLE if name == "sample" else GOLDEN / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def model(fx: dict, **options) -> dict:
    return build_export_model(
        fx, {**(fx.get("options") or {}), **options}, fx.get("tenant"), fx.get("engineer_names")
    )


def png(width: int = 1600, height: int = 900, color=(30, 120, 200)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()
