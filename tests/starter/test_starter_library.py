"""The starter library: loaded for new tenants, updated without overwriting a tenant's edits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from api.auth.service import create_tenant
from api.core.context import AppContext
from api.features import install_hooks
from api.settings import Settings
from api.starter.service import SEEDS_DIR, load_starter_library
from api.trees import service as trees
from sync.access import Principal
from tests.conftest import STRONG_PASSWORD, unique_email

SEED_COUNT = len(list(SEEDS_DIR.glob("*.json")))


def test_new_tenants_get_the_starter_library_unless_they_opt_out(http):
    assert SEED_COUNT == 25
    with_lib = http.post(
        "/api/v1/auth/register",
        json={"tenant_name": "A", "email": unique_email(), "password": STRONG_PASSWORD},
    ).json()
    items = http.get(
        "/api/v1/trees",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {with_lib['access_token']}"},
    ).json()["items"]
    assert len(items) == SEED_COUNT
    assert all(t["latest_version"] == 1 and t["starter"] for t in items)
    titles = {t["title"] for t in items}
    assert {
        "Citrix VDA Not Registering",
        "FSLogix Profile Issues",
        "Active Directory Replication Failure",
        "SonicWall VPN Tunnel Down",
        "User Unable to Access File Share",
    } <= titles
    without = http.post(
        "/api/v1/auth/register",
        json={
            "tenant_name": "B",
            "email": unique_email(),
            "password": STRONG_PASSWORD,
            "starter_library": False,
        },
    ).json()
    assert (
        http.get("/api/v1/trees", headers={"Authorization": f"Bearer {without['access_token']}"}).json()[
            "items"
        ]
        == []
    )


def _ctx(tmp_path: Path) -> AppContext:
    ctx = AppContext.create(Settings(data_dir=tmp_path / "data", secret_key="s" * 40))
    install_hooks(ctx)
    return ctx


def test_reloading_updates_untouched_trees_and_offers_updates_for_edited_ones(tmp_path):
    ctx = _ctx(tmp_path)
    tenant, _owner = create_tenant(
        ctx,
        tenant_name="T",
        email=unique_email(),
        password=STRONG_PASSWORD,
        display_name="",
        starter_library=False,
    )
    tid = tenant["tenant_id"]
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    first = load_starter_library(ctx, tid, seeds)
    assert len(first["added"]) == SEED_COUNT and not first["skipped"]
    assert load_starter_library(ctx, tid, seeds)["unchanged"] == first["added"]  # idempotent

    who = Principal(tenant_id=tid, user_id="author1", role="author")
    edited_id, untouched_id = "tree:dns-resolution-failure", "tree:citrix-vda-registration"
    draft = trees.get_tree(ctx, who, edited_id)
    draft["description"] = "Our own wording, tuned to our clients."
    trees.update_tree(ctx, who, edited_id, draft)

    # A newer starter release changes both trees.
    for tree_id in (edited_id, untouched_id):
        path = seeds / f"{tree_id.split(':', 1)[1]}.json"
        doc = json.loads(path.read_text())
        doc["description"] += " (2027 edition)"
        path.write_text(json.dumps(doc))
    report = load_starter_library(ctx, tid, seeds)
    assert report["updated"] == [untouched_id] and report["offered"] == [edited_id]

    untouched = trees.get_tree(ctx, who, untouched_id)
    assert untouched["description"].endswith("(2027 edition)")
    assert [v["version"] for v in trees.list_versions(ctx, who, untouched_id)] == [2, 1]
    edited = trees.get_tree(ctx, who, edited_id)
    assert edited["description"] == "Our own wording, tuned to our clients."  # the tenant's edit survives
    assert [v["version"] for v in trees.list_versions(ctx, who, edited_id)] == [1]

    from api.starter.service import apply_offer, get_offer

    offer = get_offer(ctx, who, edited_id)
    assert offer["tree"]["description"].endswith("(2027 edition)")
    apply_offer(ctx, who, edited_id)
    assert trees.get_tree(ctx, who, edited_id)["description"].endswith("(2027 edition)")
    assert load_starter_library(ctx, tid, seeds)["unchanged"].count(edited_id) == 1
    ctx.store.close()


def test_seed_command_loads_into_an_existing_tenant(http, tenant, server):
    import subprocess
    import sys

    from tests.conftest import ROOT

    assert http.get("/api/v1/trees", headers=tenant.headers).json()["items"] == []
    env = {**server.env}
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "seed", "--tenant", tenant.id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{SEED_COUNT} added" in proc.stdout
    items = http.get("/api/v1/trees", headers=tenant.headers, params={"limit": 100}).json()["items"]
    assert len(items) == SEED_COUNT
