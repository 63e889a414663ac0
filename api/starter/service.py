"""Loading and updating the starter library (`seeds/trees/*.json`) in a tenant.

Each starter tree is loaded as a draft and published as version 1. The tree's sidecar
(`treemeta:{slug}`) remembers which starter content it came from (`starter.hash`) and the
draft revision that load produced (`starter.rev`). Loading again later:

- a tree the tenant never edited (its draft is still at `starter.rev`) is updated to the
  newer starter content and published as the next version;
- a tree the tenant edited is left alone; the newer content is kept beside it
  (`treestarter:{slug}`) and offered as an update the tenant may review and apply;
- a starter tree the tenant deleted or archived stays that way.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import orjson

from sync.access import Principal
from sync.errors import NotFound

from ..core.context import AppContext
from ..core.docs import get_or_none, save
from ..core.timeutil import iso
from ..trees import service as trees
from ..trees.validation import validate_tree

log = logging.getLogger("branchline.starter")

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds" / "trees"
SYSTEM_USER = "branchline"


def starter_trees(seeds_dir: Path = SEEDS_DIR) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.json"))]


def content_hash(tree: dict[str, Any]) -> str:
    body = {k: v for k, v in tree.items() if not k.startswith("_") or k == "_id"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _system_principal(tenant_id: str) -> Principal:
    return Principal(tenant_id=tenant_id, user_id=SYSTEM_USER, role="owner", kind="user")


def _offer_id(tree_id: str) -> str:
    return "treestarter:" + tree_id.split(":", 1)[1]


def load_starter_library(
    ctx: AppContext, tenant_id: str, seeds_dir: Path = SEEDS_DIR
) -> dict[str, list[str]]:
    """Load or update every starter tree; returns what happened to each, by tree id."""
    who = _system_principal(tenant_id)
    db = trees.trees_db(ctx, tenant_id)
    report: dict[str, list[str]] = {"added": [], "updated": [], "offered": [], "unchanged": [], "skipped": []}
    for tree in starter_trees(seeds_dir):
        tree_id = tree["_id"]
        problems = validate_tree(tree)
        if problems:
            # A broken seed must never stop a sign-up; the seed tests catch it before release.
            log.error(
                "starter tree %s has %d problem(s); not loaded: %s", tree_id, len(problems), problems[0]
            )
            report["skipped"].append(tree_id)
            continue
        digest = content_hash(tree)
        draft = get_or_none(db, tree_id)
        meta = trees.get_meta(db, tree_id)
        starter = meta.get("starter") or {}
        if draft is None:
            if starter:
                report["skipped"].append(tree_id)  # the tenant deleted it: respect that
                continue
            saved = trees.create_tree(ctx, who, dict(tree))
            trees.publish(ctx, who, tree_id, change_note="Starter library")
            trees.touch_meta(db, tree_id, starter={"hash": digest, "rev": saved["_rev"], "loaded_at": iso()})
            report["added"].append(tree_id)
        elif starter.get("hash") == digest:
            report["unchanged"].append(tree_id)
        elif starter and draft["_rev"] == starter.get("rev") and not draft.get("archived"):
            saved = trees.update_tree(ctx, who, tree_id, {**tree, "_rev": draft["_rev"]})
            trees.publish(ctx, who, tree_id, change_note="Starter library update")
            trees.touch_meta(db, tree_id, starter={"hash": digest, "rev": saved["_rev"], "loaded_at": iso()})
            report["updated"].append(tree_id)
        else:
            offer = get_or_none(db, _offer_id(tree_id)) or {
                "_id": _offer_id(tree_id),
                "type": "tree_starter_offer",
            }
            if offer.get("hash") != digest:
                offer.update({"tree_id": tree_id, "hash": digest, "offered_at": iso(), "tree": tree})
                save(db, offer)
            report["offered"].append(tree_id)
    return report


def get_offer(ctx: AppContext, who: Principal, tree_id: str) -> dict[str, Any]:
    tree_id = trees.normalize_tree_id(tree_id)
    offer = get_or_none(trees.trees_db(ctx, who.tenant_id), _offer_id(tree_id))
    if offer is None:
        raise NotFound(f"No starter update is waiting for {tree_id}.")
    return {"tree_id": tree_id, "offered_at": offer["offered_at"], "tree": offer["tree"]}


def apply_offer(ctx: AppContext, who: Principal, tree_id: str) -> dict[str, Any]:
    """Replace the draft with the offered starter content (publish it afterwards as usual)."""
    tree_id = trees.normalize_tree_id(tree_id)
    db = trees.trees_db(ctx, who.tenant_id)
    offer = get_or_none(db, _offer_id(tree_id))
    if offer is None:
        raise NotFound(f"No starter update is waiting for {tree_id}.")
    draft = get_or_none(db, tree_id)
    body = {**offer["tree"], "_id": tree_id}
    saved = (
        trees.update_tree(ctx, who, tree_id, {**body, "_rev": draft["_rev"]})
        if draft
        else trees.create_tree(ctx, who, body)
    )
    trees.touch_meta(db, tree_id, starter={"hash": offer["hash"], "rev": saved["_rev"], "loaded_at": iso()})
    db.delete(offer["_id"], offer["_rev"])
    return saved


def on_tenant_created(ctx: AppContext, tenant_id: str, *, starter_library: bool) -> None:
    if starter_library:
        load_starter_library(ctx, tenant_id)
