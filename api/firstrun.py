"""The first run of DESIGN.md: a demo tenant with three accounts, the starter library and two
example clients, created once on an empty data folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sync.naming import tenant_db

from .auth import service as auth
from .core.context import AppContext
from .core.docs import by_prefix, save
from .core.timeutil import iso
from .users.service import generate_password

DEMO_TENANT = "Demo MSP"
DEMO_ACCOUNTS = (
    ("owner", "owner@demo-msp.example", "Olivia Owner"),
    ("author", "author@demo-msp.example", "Arjun Author"),
    ("engineer", "engineer@demo-msp.example", "Emma Engineer"),
)
DEMO_CLIENTS = (
    {
        "_id": "client:contoso",
        "name": "Contoso Ltd",
        "values": {
            "domain": "contoso.local",
            "dc": "CON-DC01",
            "file_server": "CON-FS01",
            "vpn_peer": "203.0.113.10",
            "citrix_controller": "CON-DDC01",
        },
        "notes": "Head office in Leeds; after-hours changes need approval from the IT manager.",
    },
    {
        "_id": "client:fabrikam",
        "name": "Fabrikam Dental",
        "values": {
            "domain": "fabrikam.local",
            "dc": "FAB-DC01",
            "file_server": "FAB-NAS01",
            "vpn_peer": "198.51.100.24",
        },
        "notes": "Three surgeries; the imaging server must not be rebooted during clinic hours.",
    },
)


def has_tenants(ctx: AppContext) -> bool:
    return bool(by_prefix(ctx.system, "tenant:", limit=1))


def first_run(ctx: AppContext) -> dict[str, Any] | None:
    """Create the demo tenant if the data folder has no tenant yet; return what to print."""
    if has_tenants(ctx):
        return None
    owner_role, owner_email, owner_name = DEMO_ACCOUNTS[0]
    logins = []
    owner_pw = generate_password()
    tenant, _owner = auth.create_tenant(
        ctx,
        tenant_name=DEMO_TENANT,
        email=owner_email,
        password=owner_pw,
        display_name=owner_name,
        starter_library=True,
    )
    logins.append((owner_role, owner_email, owner_pw))
    tid = tenant["tenant_id"]
    for role, email, name in DEMO_ACCOUNTS[1:]:
        pw = generate_password()
        auth.create_user(ctx, tid, email=email, password=pw, display_name=name, role=role)
        logins.append((role, email, pw))
    clients = tenant_db(ctx.store, tid, "clients")
    for client in DEMO_CLIENTS:
        save(clients, {**client, "type": "client", "schema_version": 1, "created_at": iso()})
    trees = tenant_db(ctx.store, tid, "trees").all_docs(startkey="tree:", endkey="tree:\ufff0", offset=False)[
        "rows"
    ]
    return {"tenant": tenant, "logins": logins, "tree_count": len(trees)}


def format_first_run(result: dict[str, Any], url: str) -> str:
    lines = [
        "",
        f'  First run: created the tenant "{result["tenant"]["name"]}" '
        f"with {result['tree_count']} starter trees"
        f" and {len(DEMO_CLIENTS)} example clients.",
        "  Sign in with one of these accounts (the passwords are shown only now; keep them):",
        "",
    ]
    for role, email, pw in result["logins"]:
        lines.append(f"    {role:<9} {email:<28} {pw}")
    lines += [
        "",
        f"  Open {url} in a browser.",
        "  Locked out later? `./branchline user reset-password EMAIL` (in this folder) "
        "prints a new password.",
        "",
    ]
    return "\n".join(lines)


LOGINS_FILE = "first-run-logins.txt"


def save_first_run(banner: str, data_dir: Path) -> Path:
    """Write the first-run banner (with passwords) to a file only the service user can read.

    Used when standard output is not a terminal: there it usually ends up in a log file
    (systemd's journal, `docker logs`, a redirect), kept and copied long after the first
    sign-in, where the owner's password must not be.
    """
    path = Path(data_dir) / LOGINS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(banner.lstrip("\n") + "\n")
    return path
