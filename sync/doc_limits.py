"""Per-document size limits, per logical database.

A document is measured as its compact JSON encoding (inline base64 attachments included:
files belong in the attachments API, which has its own limits). Each database has its own
limit because its documents have their own shapes: a tree of 2,000 nodes is a few
megabytes, a session event or a client context a few kilobytes, a replication checkpoint
(`_local`) well under a kilobyte. One pure function decides; the sync write paths and the
API's own writes both call it, so a document refused on one path is refused on the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import PayloadTooLarge

MB = 1024 * 1024
KB = 1024


@dataclass(frozen=True)
class DocSizeLimits:
    """Largest document, in bytes, per logical database (`default` for any other), and for
    `_local` documents in every database."""

    per_db: Mapping[str, int] = field(default_factory=dict)
    default: int = 2 * MB
    local: int = 64 * KB

    def limit_for(self, db: str, docid: Any) -> tuple[int, str]:
        """The limit for a document of `db` and the setting that holds it."""
        if isinstance(docid, str) and docid.startswith("_local/"):
            return self.local, "BRANCHLINE_MAX_LOCAL_DOC_BYTES"
        if db in self.per_db:
            return self.per_db[db], f"BRANCHLINE_MAX_DOC_BYTES_{db.upper()}"
        return self.default, "BRANCHLINE_MAX_DOC_BYTES"

    def check(self, db: str, doc: dict[str, Any], size: int | None = None) -> None:
        """Raise 413 when `doc` (of `size` bytes, measured when not given) is over its limit."""
        problem = self.problem(db, doc, size)
        if problem:
            raise PayloadTooLarge(problem)

    def problem(self, db: str, doc: dict[str, Any], size: int | None = None) -> str | None:
        """Why `doc` is refused, or None when it fits."""
        docid = doc.get("_id")
        limit, setting = self.limit_for(db, docid)
        if size is None:
            if doc.get("_deleted") and len(doc) <= 3:
                return None  # a bare tombstone
            size = len(orjson.dumps(doc))
        if size <= limit:
            return None
        what = (
            "A _local document"
            if isinstance(docid, str) and docid.startswith("_local/")
            else f"A document in `{db}`"
        )
        return (
            f"{what} may be at most {_human(limit)}; {docid!r} is {_human(size)}. Keep files out "
            "of documents (upload them as attachments) and split large content; an operator "
            f"can raise the limit with {setting}."
        )


def _human(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB"
    if n >= KB:
        return f"{n / KB:.0f} KB"
    return f"{n} bytes"


UNLIMITED = DocSizeLimits(default=1 << 62, local=1 << 62)
