"""The one place that maps a tenant's logical database names to physical names and back,
and the one way to open a tenant's database (`tenant_db`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import BadRequest

if TYPE_CHECKING:
    from .store import Database, Store

SYSTEM_DB = "branchline_system"
STANDARD_DATABASES = ("trees", "sessions", "clients")

# CouchDB's rule for database names, minus `/` (we nest by prefix, not by path), and a
# tenant id; a physical name is `t_{tenant}_{logical}` (a tenant id holds no `_`, so the
# first `_` after it ends it).
_LOGICAL_RE = r"[a-z][a-z0-9_$()+-]{0,63}"
_TENANT_RE = r"[a-z0-9]{6,32}"
_LOGICAL = re.compile(f"^{_LOGICAL_RE}$")
_TENANT = re.compile(f"^{_TENANT_RE}$")
_PHYSICAL = re.compile(f"^t_({_TENANT_RE})_({_LOGICAL_RE})$")


class TenantDbName(NamedTuple):
    tenant_id: str
    name: str


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
        raise BadRequest(
            f"Document id is longer than {MAX_DOC_ID_BYTES} bytes; use a shorter id.", error="illegal_docid"
        )
    if _CONTROL.search(docid):
        raise BadRequest(
            "Document id contains a control character (such as NUL or a line break); "
            "use printable characters only.",
            error="illegal_docid",
        )
    return docid


# Members a CouchDB document may have that start with `_`. The replicator's own fields
# (`_replication_*`, written on `_replicator` documents) are kept in the body as data.
REPLICATION_MEMBERS = frozenset(
    {
        "_replication_id",
        "_replication_state",
        "_replication_state_time",
        "_replication_state_reason",
        "_replication_stats",
    }
)
SPECIAL_MEMBERS = (
    frozenset(
        {
            "_id",
            "_rev",
            "_deleted",
            "_attachments",
            "_revisions",
            "_revs_info",
            "_conflicts",
            "_deleted_conflicts",
            "_local_seq",
        }
    )
    | REPLICATION_MEMBERS
)


def check_bulk_doc(doc: dict[str, Any], new_edits: bool) -> None:
    """What makes CouchDB refuse a whole `_bulk_docs` request (400, nothing written).

    Run over every document before any is written; only cheap checks of the document's
    top-level members, so a replicator's batch pays next to nothing.
    """
    docid = doc.get("_id")
    if isinstance(docid, str) and docid[:1] == "_" and not docid.startswith(("_design/", "_local/")):
        raise BadRequest(
            f"Only reserved document ids may start with underscore ({docid!r}); "
            "use an id that starts with another character.",
            error="illegal_docid",
        )
    for key in doc:
        if key[:1] == "_" and key not in SPECIAL_MEMBERS:
            raise BadRequest(f"Bad special document member: {key}", error="doc_validation")
    if not new_edits and "_rev" not in doc:
        raise BadRequest(
            "Document rev is required when new_edits is false: send each "
            "document with its _rev (and _revisions)."
        )
    check_attachment_names(doc)


def check_attachment_name(name: str) -> str:
    """CouchDB keeps names starting with `_` for itself: 400 `bad_request`."""
    if name.startswith("_"):
        raise BadRequest(
            f"Attachment name '{name}' starts with prohibited character '_'; "
            "rename the file so it starts with another character."
        )
    return name


def check_attachment_names(doc: dict[str, Any]) -> None:
    """Every inline attachment name of `doc` (see `check_attachment_name`)."""
    atts = doc.get("_attachments")
    if isinstance(atts, dict):
        for name in atts:
            check_attachment_name(name)


def check_logical_name(name: str) -> str:
    if not _LOGICAL.match(name):
        raise BadRequest(
            f"Database name {name!r} is not allowed: use lowercase letters, digits and _$()+- "
            "starting with a letter, at most 64 characters.",
            error="illegal_database_name",
        )
    return name


def is_tenant_id(tenant_id: str) -> bool:
    return bool(_TENANT.match(tenant_id))


def physical_name(tenant_id: str, name: str) -> str:
    """`t_{tenant_id}_{name}`: the only function that builds a tenant database's name."""
    if not is_tenant_id(tenant_id):
        raise BadRequest(f"Tenant id {tenant_id!r} is malformed.")
    return f"t_{tenant_id}_{check_logical_name(name)}"


def parse_physical(physical: str) -> TenantDbName | None:
    """(tenant id, logical name) of a tenant database's physical name; None for any other
    (the system database): the only function that reads one."""
    m = _PHYSICAL.match(physical)
    return TenantDbName(m.group(1), m.group(2)) if m else None


def tenant_db(store: Store, tenant_id: str, name: str) -> Database:
    """The tenant's database `name`: the one way API code opens a tenant database."""
    return store.db(physical_name(tenant_id, name))


def tenant_prefix(tenant_id: str) -> str:
    return f"t_{tenant_id}_"


def logical_name(tenant_id: str, physical: str) -> str | None:
    """The logical name of `physical` when it is a database of this tenant, else None."""
    parsed = parse_physical(physical)
    return parsed.name if parsed is not None and parsed.tenant_id == tenant_id else None


def logical_of(physical: str) -> str:
    """The logical name within a tenant's physical name (`t_{tenant}_{name}` gives `name`);
    a name outside any tenant (the system database) is returned as it is."""
    parsed = parse_physical(physical)
    return physical if parsed is None else parsed.name


def tenant_of(physical: str) -> str | None:
    """The tenant a physical database belongs to, or None (the system database)."""
    parsed = parse_physical(physical)
    return None if parsed is None else parsed.tenant_id
