"""The starter scripts (`seeds/scripts/*.json`), loaded for new tenants with the starter library.

Each is created as a draft and published as version 1; its sidecar remembers the starter
content's hash. Loading again adds only scripts the tenant never had: one it edited, archived
or deleted is left as it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import orjson

from sync.access import Principal
from sync.errors import BranchlineError

from ..core.context import AppContext
from ..core.docs import get_or_none
from ..core.timeutil import iso
from . import service
from .models import check_script

log = logging.getLogger("branchline.scripts")

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds" / "scripts"
SYSTEM_USER = "branchline"


def starter_scripts(seeds_dir: Path = SEEDS_DIR) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.json"))]


def content_hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def load_starter_scripts(
    ctx: AppContext, tenant_id: str, seeds_dir: Path = SEEDS_DIR
) -> dict[str, list[str]]:
    """Add and publish every starter script the tenant never had; returns ids by what happened."""
    who = Principal(tenant_id=tenant_id, user_id=SYSTEM_USER, role="owner", kind="user")
    db = service.scripts_db(ctx, tenant_id)
    report: dict[str, list[str]] = {"added": [], "kept": [], "skipped": []}
    for seed in starter_scripts(seeds_dir):
        script_id = seed.get("_id", "?")
        try:
            doc = check_script(seed)
        except BranchlineError as exc:
            # A broken seed must never stop a sign-up; tests/scripts catch it before release.
            log.error("starter script %s is invalid; not loaded: %s", script_id, exc.reason)
            report["skipped"].append(script_id)
            continue
        if get_or_none(db, script_id) is not None or service.get_meta(db, script_id).get("starter"):
            report["kept"].append(script_id)
            continue
        saved = service.create_script(ctx, who, doc)
        service.publish(ctx, who, script_id, change_note="Starter scripts")
        service.touch_meta(
            db, script_id, starter={"hash": content_hash(doc), "rev": saved["_rev"], "loaded_at": iso()}
        )
        report["added"].append(script_id)
    return report


def on_tenant_created(ctx: AppContext, tenant_id: str, *, starter_library: bool) -> None:
    if starter_library:
        load_starter_scripts(ctx, tenant_id)
