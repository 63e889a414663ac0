"""Schema migrations applied on read."""

from __future__ import annotations

from typing import Any

import pytest

from api.trees import migrations
from api.trees.migrations import MIGRATIONS, migrate_tree, migrate_tree_version, register_migration
from api.trees.models import TREE_SCHEMA_VERSION
from api.trees.validation import validate_tree
from sync.errors import BadRequest

from .factories import valid_tree


def _v0_to_v1(doc: dict[str, Any]) -> dict[str, Any]:
    """A made-up v0: nodes as a list with an `id` each and `first` instead of `start`."""
    doc["nodes"] = {node.pop("id"): node for node in doc.pop("steps")}
    doc["start"] = doc.pop("first")
    return doc


def _as_v0(tree: dict[str, Any]) -> dict[str, Any]:
    steps = [{"id": node_id, **node} for node_id, node in tree.pop("nodes").items()]
    return {**tree, "schema_version": 0, "steps": steps, "first": tree.pop("start")}


def _v0_version() -> dict[str, Any]:
    """A published version document of the made-up v0, around a v0 tree."""
    return {
        "_id": "treever:citrix-vda-registration:1",
        "type": "tree_version",
        "schema_version": 0,
        "tree": _as_v0(valid_tree()),
    }


def test_current_documents_pass_through_as_copies() -> None:
    doc = valid_tree()
    migrated = migrate_tree(doc)
    assert migrated == doc
    migrated["nodes"]["scope"]["title"] = "changed"
    assert doc["nodes"]["scope"]["title"] == "Is only one VDA affected?"


def test_a_registered_migration_upgrades_on_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MIGRATIONS, 0, _v0_to_v1)
    old = _as_v0(valid_tree())
    snapshot = repr(old)
    migrated = migrate_tree(old)
    assert migrated["schema_version"] == TREE_SCHEMA_VERSION
    assert migrated == valid_tree()
    assert validate_tree(migrated) == []
    assert repr(old) == snapshot, "the stored document must not be modified"


def test_migrations_chain_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MIGRATIONS, 0, _v0_to_v1)
    monkeypatch.setitem(MIGRATIONS, 1, lambda d: {**d, "title": d["title"] + " (v2)"})
    migrated = migrate_tree(_as_v0(valid_tree()), current=2)
    assert migrated["schema_version"] == 2
    assert migrated["title"] == "Citrix VDA Not Registering (v2)"
    assert "nodes" in migrated


def test_newer_documents_are_refused_clearly() -> None:
    doc = {**valid_tree(), "schema_version": TREE_SCHEMA_VERSION + 1}
    with pytest.raises(BadRequest) as caught:
        migrate_tree(doc)
    assert caught.value.status == 400
    assert "Upgrade Branchline" in caught.value.reason
    assert "tree:citrix-vda-registration" in caught.value.reason


@pytest.mark.parametrize("version", [None, "1", 1.0, True])
def test_documents_without_an_integer_version_are_refused(version: Any) -> None:
    doc = valid_tree()
    if version is None:
        del doc["schema_version"]
    else:
        doc["schema_version"] = version
    with pytest.raises(BadRequest, match="schema_version"):
        migrate_tree(doc)


def test_a_gap_in_the_chain_is_refused() -> None:
    assert 0 not in MIGRATIONS  # v1 is the first version ever written
    with pytest.raises(BadRequest, match="no migration from 0 to 1"):
        migrate_tree(_as_v0(valid_tree()))


def test_non_objects_are_refused() -> None:
    with pytest.raises(BadRequest):
        migrate_tree(["not", "a", "tree"])  # type: ignore[arg-type]


def test_register_refuses_a_second_migration_for_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", {})
    register_migration(0)(_v0_to_v1)
    with pytest.raises(ValueError, match="already registered"):
        register_migration(0)(_v0_to_v1)


def test_versions_migrate_their_frozen_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(MIGRATIONS, 0, _v0_to_v1)
    version_doc = _v0_version()
    migrated = migrate_tree_version(version_doc)
    assert migrated["schema_version"] == TREE_SCHEMA_VERSION
    assert migrated["tree"] == valid_tree()
    with pytest.raises(BadRequest, match="Upgrade Branchline"):
        migrate_tree_version({**version_doc, "schema_version": TREE_SCHEMA_VERSION + 1})
    with pytest.raises(BadRequest, match="frozen"):
        migrate_tree_version({**version_doc, "tree": None})


def test_versions_are_copied_unless_the_caller_owns_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A version read for one request (the runner, every REST event) is owned by its caller
    and migrated in place; any other caller gets a copy and its document stays as it was."""
    monkeypatch.setitem(MIGRATIONS, 0, _v0_to_v1)
    version_doc = _v0_version()
    snapshot = repr(version_doc)
    migrated = migrate_tree_version(version_doc)
    migrated["tree"]["nodes"]["scope"]["title"] = "changed"
    assert repr(version_doc) == snapshot, "neither the envelope nor the frozen tree may change"

    owned = migrate_tree_version(version_doc, owned=True)
    assert owned is version_doc
    assert owned["tree"] == valid_tree() and owned["schema_version"] == TREE_SCHEMA_VERSION
