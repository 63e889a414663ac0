"""The SQLite schema of an embedded database file, and the rule for database names."""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadRequest

# CouchDB's database-name rule without `/`; long enough for `t_<tenant>_<logical>`.
_DB_NAME = re.compile(r"^[a-z][a-z0-9_$()+-]{0,254}$")
DEFAULT_REVS_LIMIT = 1000
_BUSY_TIMEOUT_MS = 30_000
_CHUNK = 500  # SQLite's variable limit is far above; this keeps statements small.

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    winner TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    tree BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bodies (
    id TEXT NOT NULL,
    rev TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (id, rev)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS old_bodies (
    id TEXT NOT NULL,
    rev TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (id, rev)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachments (digest TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS local_docs (
    id TEXT PRIMARY KEY, rev INTEGER NOT NULL, body BLOB NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('update_seq', 0), ('revs_limit', 1000);
"""
# Databases written before the counts were kept get them once, in one statement (atomic
# against another process writing the same file).
_COUNTS_SQL = """
INSERT OR IGNORE INTO meta (key, value)
SELECT 'doc_count', COALESCE(SUM(deleted = 0), 0) FROM docs
UNION ALL SELECT 'doc_del_count', COALESCE(SUM(deleted = 1), 0) FROM docs
"""


def check_db_name(name: Any) -> str:
    """Validate a physical database name (e.g. `branchline_system`, `t_abc123_sessions`)."""
    if not isinstance(name, str) or not _DB_NAME.match(name):
        raise BadRequest(
            f"Database name {name!r} is not allowed: use lowercase letters, digits and _$()+- "
            "starting with a letter.",
            error="illegal_database_name",
        )
    return name
