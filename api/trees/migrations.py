"""Schema migrations of tree documents, applied on read.

Every tree (and every published version) carries `schema_version`. When the format changes,
bump `TREE_SCHEMA_VERSION` in `api.trees.models` and register one function that turns a
version N document into version N+1:

    @register_migration(1)
    def _v1_to_v2(doc: dict) -> dict:
        ...

`migrate_tree` runs the chain from the document's version up to the current one. It
never writes: stored documents are upgraded in memory each time they are read, and the
next save stores the current version. Documents newer than this code are refused, because
silently dropping fields we do not understand would lose an author's work.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sync.errors import BadRequest

from .models import TREE_SCHEMA_VERSION

Migration = Callable[[dict[str, Any]], dict[str, Any]]

MIGRATIONS: dict[int, Migration] = {}
"""`from_version -> function` returning the document at `from_version + 1`."""


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: register the migration from `from_version` to `from_version + 1`."""

    def decorate(func: Migration) -> Migration:
        if from_version in MIGRATIONS:
            raise ValueError(
                f"a migration from schema_version {from_version} is already "
                f"registered ({MIGRATIONS[from_version].__name__})"
            )
        MIGRATIONS[from_version] = func
        return func

    return decorate


def _version_of(doc: dict[str, Any], what: str) -> int:
    version = doc.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise BadRequest(
            f"The {what} {doc.get('_id', '(without _id)')!r} has schema_version {version!r}; "
            f"it must be a whole number (this Branchline writes {TREE_SCHEMA_VERSION}). "
            f'Set "schema_version": {TREE_SCHEMA_VERSION} if the document follows the '
            "current tree format."
        )
    return version


def migrate_tree(
    doc: dict[str, Any], *, current: int = TREE_SCHEMA_VERSION, owned: bool = False
) -> dict[str, Any]:
    """`doc` upgraded to the current `schema_version`; the input is never modified, unless
    the caller `owned` it (just read from the store, held by nobody else): then it may be
    upgraded in place and returned itself, sparing a copy of a whole tree per request.

    Raises `BadRequest` when `doc` is not an object, has no integer `schema_version`, is
    newer than this code knows, or is older with no migration registered for a step.
    `current` exists for tests; callers use the default.
    """
    if not isinstance(doc, dict):
        raise BadRequest(f"A tree must be a JSON object, not {type(doc).__name__}.")
    version = _version_of(doc, "tree")
    if version > current:
        raise BadRequest(
            f"The tree {doc.get('_id', '(without _id)')!r} has schema_version {version}, but "
            f"this Branchline only understands up to {current}. Upgrade Branchline before "
            "opening or editing it."
        )
    out = doc if owned else copy.deepcopy(doc)
    while version < current:
        step = MIGRATIONS.get(version)
        if step is None:
            raise BadRequest(
                f"The tree {doc.get('_id', '(without _id)')!r} has schema_version {version}, "
                f"and no migration from {version} to {version + 1} exists. Re-import it from an "
                "export made by a Branchline that supports this version."
            )
        out = step(out)
        version += 1
        out["schema_version"] = version
    return out


def migrate_tree_version(
    doc: dict[str, Any], *, current: int = TREE_SCHEMA_VERSION, owned: bool = False
) -> dict[str, Any]:
    """A published version document with its frozen `tree` migrated like `migrate_tree`
    (`owned` as there).

    The version document's own envelope (`version`, `published_at`, ...) has not changed
    shape since v1, so only its `schema_version` follows the tree's.
    """
    if not isinstance(doc, dict):
        raise BadRequest(f"A tree version must be a JSON object, not {type(doc).__name__}.")
    version = _version_of(doc, "tree version")
    if version > current:
        raise BadRequest(
            f"The tree version {doc.get('_id', '(without _id)')!r} has schema_version "
            f"{version}, but this Branchline only understands up to {current}. Upgrade "
            "Branchline before running it."
        )
    tree = doc.get("tree")
    if not isinstance(tree, dict):
        raise BadRequest(
            f"The tree version {doc.get('_id', '(without _id)')!r} has no frozen "
            "`tree` object; it cannot be run. Publish the tree again."
        )
    # The tree is copied (or not) once, by migrate_tree; the envelope around it here.
    out = doc if owned else copy.deepcopy({k: v for k, v in doc.items() if k != "tree"})
    out["tree"] = migrate_tree(tree, current=current, owned=owned)
    out["schema_version"] = current
    return out
