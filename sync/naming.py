"""The one place that maps a tenant's logical database names to physical names."""
from __future__ import annotations

import re

from .errors import BadRequest

SYSTEM_DB = "branchline_system"
STANDARD_DATABASES = ("trees", "sessions", "clients")

# CouchDB's rule for database names, minus `/` (we nest by prefix, not by path).
_LOGICAL = re.compile(r"^[a-z][a-z0-9_$()+-]{0,63}$")
_TENANT = re.compile(r"^[a-z0-9]{6,32}$")


# Longest document id accepted, in UTF-8 bytes: ids name things ("session:{ulid}:ev:{ulid}",
# "tree:{slug}"); a longer one is a mistake or an attempt to bloat every index and feed.
MAX_DOC_ID_BYTES = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_doc_id(docid: str) -> str:
    """Refuse (400 `illegal_docid`) an id that is empty, too long or holds control characters
    (NUL among them), which break logs, exports and other CouchDB tools."""
    if not docid:
        raise BadRequest("Document id must be a non-empty string.", error="illegal_docid")
    if len(docid.encode("utf-8", "surrogatepass")) > MAX_DOC_ID_BYTES:
        raise BadRequest(f"Document id is longer than {MAX_DOC_ID_BYTES} bytes; use a shorter id.",
                         error="illegal_docid")
    if _CONTROL.search(docid):
        raise BadRequest("Document id contains a control character (such as NUL or a line break); "
                         "use printable characters only.", error="illegal_docid")
    return docid


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
