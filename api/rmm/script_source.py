"""Where a run's script comes from: the one place that reads the script library and renders.

The script library (`api/scripts/`) keeps each published version as `scriptver:{slug}:{n}`
(the frozen script under `script`) with `scriptmeta:{slug}` naming the latest
(`latest_version`), in the tenant's `scripts` database. A run always
uses a published version, read here on the server: a device names the script and its
parameter values, never the text that runs or the risk it carries. Rendering is
`api.scripts.render.render(script, values)` (validation by type, injection-safe quoting);
until that module is part of the server, only scripts without parameters can run.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sync.errors import BadRequest, NotFound

from ..core.context import AppContext
from ..core.docs import get_or_none, open_tenant_db

DATABASE = "scripts"


def published_script(ctx: AppContext, tenant_id: str, script_id: str, version: int | None) -> dict[str, Any]:
    """The published script (`version`, else the latest), with its `version`; NotFound otherwise."""
    slug = script_id.split(":", 1)[1] if script_id.startswith("script:") else script_id
    db = open_tenant_db(ctx.store, tenant_id, DATABASE)
    if version is None:
        meta = get_or_none(db, f"scriptmeta:{slug}") if db is not None else None
        version = (meta or {}).get("latest_version")
        if (meta or {}).get("archived"):
            version = None
    doc = get_or_none(db, f"scriptver:{slug}:{version}") if db is not None and version else None
    if doc is None:
        raise NotFound(
            f"No published script {script_id!r}; an author publishes it in the script library first."
        )
    # A version document holds the frozen script under `script` (api/scripts/service.py).
    frozen = doc.get("script")
    script: dict[str, Any] = frozen if isinstance(frozen, dict) else {}
    return {**script, "id": f"script:{slug}", "version": version}


def secret_names(script: dict[str, Any]) -> set[str]:
    return {
        p["name"] for p in script.get("parameters") or [] if isinstance(p, dict) and p.get("type") == "secret"
    }


def render(script: dict[str, Any], values: dict[str, Any]) -> str:
    """The text that runs on the device."""
    # Looked up beside this package, not by module search: an editable install elsewhere
    # must not lend this server another checkout's renderer.
    if (Path(__file__).resolve().parents[1] / "scripts" / "render.py").is_file():
        return importlib.import_module("api.scripts.render").render(script, values)
    if values or any(isinstance(p, dict) and p.get("required") for p in script.get("parameters") or []):
        raise BadRequest(
            "This server cannot render script parameters yet; run a script without parameters, "
            "or update Branchline."
        )
    return str(script.get("body") or "")
