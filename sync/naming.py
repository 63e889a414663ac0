"""The one place that maps a tenant's logical database names to physical names."""
from __future__ import annotations

import re

from .errors import BadRequest

SYSTEM_DB = "branchline_system"
STANDARD_DATABASES = ("trees", "sessions", "clients")

# CouchDB's rule for database names, minus `/` (we nest by prefix, not by path).
_LOGICAL = re.compile(r"^[a-z][a-z0-9_$()+-]{0,63}$")
_TENANT = re.compile(r"^[a-z0-9]{6,32}$")


def check_logical_name(name: str) -> str:
    if not _LOGICAL.match(name):
        raise BadRequest(
            f"Database name {name!r} is not allowed: use lowercase letters, digits and _$()+- "
            "starting with a letter, at most 64 characters.",
            error="illegal_database_name",
        )
    return name


def physical_name(tenant_id: str, name: str) -> str:
    """`t_{tenant_id}_{name}`: the only function that builds a tenant database's name."""
    if not _TENANT.match(tenant_id):
        raise BadRequest(f"Tenant id {tenant_id!r} is malformed.")
    return f"t_{tenant_id}_{check_logical_name(name)}"


def tenant_prefix(tenant_id: str) -> str:
    return f"t_{tenant_id}_"


def logical_name(tenant_id: str, physical: str) -> str | None:
    prefix = tenant_prefix(tenant_id)
    return physical[len(prefix):] if physical.startswith(prefix) else None


def logical_of(physical: str) -> str:
    """The logical name within a tenant's physical name (`t_{tenant}_{name}` gives `name`);
    a name outside any tenant (the system database) is returned as it is."""
    if physical.startswith("t_"):
        parts = physical.split("_", 2)
        if len(parts) == 3:
            return parts[2]
    return physical


def tenant_of(physical: str) -> str | None:
    """The tenant a physical database belongs to, or None (the system database)."""
    if physical.startswith("t_"):
        parts = physical.split("_", 2)
        if len(parts) == 3 and _TENANT.match(parts[1]):
            return parts[1]
    return None
