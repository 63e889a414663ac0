"""The pydantic models: accept drafts, refuse garbage, keep documents intact."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from api.trees.models import (
    TreeCreate,
    TreeDocument,
    TreeDraft,
    TreePublic,
    TreeUpdate,
    TreeVersion,
    tree_doc_id,
    tree_slug,
    tree_version_doc_id,
)

from .factories import valid_tree


def test_a_valid_tree_round_trips_without_loss() -> None:
    doc = valid_tree()
    model = TreeDocument.model_validate(doc)
    assert model.model_dump(by_alias=True, exclude_unset=True) == doc
    assert model.nodes["event"].options[0].next == "ports"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "draft",
    [
        {"_id": "tree:new"},
        {"_id": "tree:new", "title": "", "nodes": {"a": {"type": "question"}}},
        {
            "_id": "tree:new",
            "start": "a",
            "nodes": {
                "a": {"type": "question", "next": {"yes": "b"}},
                "b": {"type": "resolution"},
                "c": {"type": "choice", "options": [{"label": "only one"}]},
                "d": {"type": "action", "next": {"done": None}},
                "e": {"type": "input"},
            },
        },
    ],
    ids=["empty", "untitled-question", "half-built"],
)
def test_unfinished_drafts_are_accepted(draft: dict[str, Any]) -> None:
    TreeDocument.model_validate(draft)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t["nodes"]["scope"]["next"].update(maybe="vda"),  # no such answer
        lambda t: t["nodes"]["scope"].update(nxt="vda"),  # typo
        lambda t: t["nodes"]["scope"].update(type="puzzle"),
        lambda t: t["nodes"]["scope"].pop("type"),
        lambda t: t["nodes"]["scope"].update(title=5),
        lambda t: t["nodes"]["fixed"].update(outcome="fixed"),
        lambda t: t["nodes"]["fixed"].update(next="scope"),  # resolutions end a path
        lambda t: t["nodes"]["vda"].update(next={"done": "service"}),
        lambda t: t["nodes"]["event"].update(options={"1002": "ports"}),
        lambda t: t["nodes"]["scope"].update(links=["https://example.org"]),
        lambda t: t.update(nodes=[]),
        lambda t: t.update(schema_version="1"),
        lambda t: t.update(schema_version=True),
        lambda t: t.update(schema_version=2),
        lambda t: t.update(type="session"),
        lambda t: t.update(_id="citrix"),
        lambda t: t.update(_secret="x"),
    ],
    ids=[
        "answer-key",
        "typo",
        "node-type",
        "no-type",
        "int-title",
        "outcome",
        "resolution-next",
        "input-next-object",
        "options-object",
        "link-string",
        "nodes-list",
        "version-string",
        "version-bool",
        "version-newer",
        "doc-type",
        "bad-id",
        "unknown-underscore-field",
    ],
)
def test_garbage_shapes_are_refused(change: Any) -> None:
    doc = valid_tree()
    change(doc)
    with pytest.raises(ValidationError):
        TreeDocument.model_validate(doc)


def test_couchdb_metadata_is_not_content() -> None:
    doc = {
        **valid_tree(),
        "_rev": "3-abc",
        "_conflicts": ["3-def"],
        "_revisions": {"start": 3, "ids": ["abc"]},
    }
    stored = TreeDocument.model_validate(doc)
    assert "_revisions" not in stored.model_dump(by_alias=True)
    public = TreePublic.model_validate(doc)
    assert public.conflicts == ["3-def"]
    assert public.model_dump(by_alias=True)["_conflicts"] == ["3-def"]


def test_create_update_public_roles() -> None:
    body = valid_tree()
    del body["_id"]
    assert TreeCreate.model_validate(body).id is None  # the server derives the id
    with pytest.raises(ValidationError):
        TreeCreate.model_validate({**body, "_rev": "1-a"})
    with pytest.raises(ValidationError):  # an update must say which revision it edits
        TreeUpdate.model_validate(valid_tree())
    assert TreeUpdate.model_validate({**valid_tree(), "_rev": "2-b"}).rev == "2-b"
    with pytest.raises(ValidationError):
        TreePublic.model_validate(valid_tree())
    assert TreeDraft.model_validate(body).id is None


def test_editor_positions_are_kept() -> None:
    doc = valid_tree()
    doc["nodes"]["scope"]["position"] = {"x": 10, "y": 20.5}
    model = TreeDocument.model_validate(doc)
    assert model.nodes["scope"].position.x == 10.0  # type: ignore[union-attr]


def _version(**overrides: Any) -> dict[str, Any]:
    tree = valid_tree()
    return {
        "_id": "treever:citrix-vda-registration:3",
        "type": "tree_version",
        "schema_version": 1,
        "tree_id": "tree:citrix-vda-registration",
        "version": 3,
        "published_at": "2026-11-26T01:00:00Z",
        "published_by": "user:ana",
        "change_note": "Added the port check.",
        "tree": tree,
        **overrides,
    }


def test_tree_version_document() -> None:
    version = TreeVersion.model_validate(_version())
    assert version.published_at == datetime(2026, 11, 26, 1, tzinfo=UTC)
    assert version.tree.title == "Citrix VDA Not Registering"
    dumped = version.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["_id"] == "treever:citrix-vda-registration:3"
    assert TreeVersion.model_validate(dumped) == version
    with pytest.raises(ValidationError):
        version.change_note = "edited later"  # type: ignore[misc]


@pytest.mark.parametrize(
    "overrides",
    [
        {"_id": "treever:citrix-vda-registration:4"},  # id and version disagree
        {"tree_id": "tree:other"},  # frozen tree is another tree
        {"published_at": "2026-11-26T01:00:00"},  # no time zone
        {"published_at": "yesterday"},
        {"version": 0, "_id": "treever:citrix-vda-registration:0"},
        {"published_by": ""},
        {"type": "tree"},
        {"tree": {**valid_tree(), "_rev": "7-x"}},  # a copy, not a revision
    ],
    ids=[
        "id-mismatch",
        "tree-mismatch",
        "naive-time",
        "bad-time",
        "version-0",
        "no-publisher",
        "wrong-type",
        "frozen-rev",
    ],
)
def test_tree_version_refuses_inconsistent_documents(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TreeVersion.model_validate(_version(**overrides))


def test_id_helpers() -> None:
    assert tree_doc_id("citrix-vda") == "tree:citrix-vda"
    assert tree_slug("tree:citrix-vda") == "citrix-vda"
    assert tree_version_doc_id("tree:citrix-vda", 2) == "treever:citrix-vda:2"
    assert tree_version_doc_id("citrix-vda", 2) == "treever:citrix-vda:2"
