"""Files of the data folder are the service user's alone.

Databases, indexes and backups hold every tenant's sessions, accounts and token hashes; on a
shared machine another local user must not read them. The process umask covers every file
created afterwards; SQLite files also get an explicit mode, because an embedding program
may have its own umask, and files made by an older version were world-readable (0644).
SQLite gives a database's `-wal` and `-shm` files the database file's own mode, so the
main file is created 0600 before SQLite first opens it.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
_SQLITE_SIDES = ("-wal", "-shm", "-journal")


def restrict_umask() -> None:
    """Files and folders this process creates from now on are private to its user."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed; `path` itself ends up 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> None:
    if path.exists():
        os.chmod(path, FILE_MODE)


def private_sqlite(path: Path) -> None:
    """Create `path` empty (a valid empty SQLite database) with mode 0600 if it is missing,
    and make it and its WAL, shared-memory and journal files 0600."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    private_file(path)
    for side in _SQLITE_SIDES:
        private_file(path.with_name(path.name + side))
