"""Request bodies of the sessions routes (they also become the OpenAPI text)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SessionCreate(BaseModel):
    """Start a session on a published tree version."""

    model_config = ConfigDict(extra="forbid")
    tree_id: str = Field(
        description="The tree to run, e.g. tree:citrix-vda-registration.", min_length=1, max_length=200
    )
    version: int | None = Field(
        default=None, description="The published version to pin; the latest when left out."
    )
    ticket: str | None = Field(default=None, max_length=500)
    client_id: str | None = Field(
        default=None, description="A client context, e.g. client:contoso.", max_length=200
    )
    title: str | None = Field(default=None, max_length=500, description="Defaults to the tree's title.")
    shared_with: list[str] | None = Field(default=None, description="User ids who may also run this session.")
    session_id: str | None = Field(
        default=None, description="A ULID made by the caller (left out: the server makes one)."
    )
    device_id: str | None = Field(default=None, max_length=100, description='Defaults to "api".')


class SessionUpdate(BaseModel):
    """Change header fields at the header's `_rev`; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    rev: str = Field(alias="_rev", description="The header's `_rev` as loaded (header._rev).")
    ticket: str | None = Field(default=None, max_length=500)
    title: str | None = Field(default=None, max_length=500)
    client_id: str | None = Field(default=None, max_length=200)
    shared_with: list[str] | None = Field(default=None, description="Owner or admin only.")
    owner_id: str | None = Field(default=None, description="Hand the session over (owner or admin only).")


class SaveToClient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node_id: str = Field(
        min_length=1, description="An input node with `save_to_client`; its entered value is saved."
    )


EVENT_EXAMPLES: dict[str, Any] = {
    "answer": {
        "summary": "Answer the current node",
        "value": {"type": "answered", "node_id": "scope", "answer": "yes"},
    },
    "note": {
        "summary": "A note on a step",
        "value": {
            "type": "note",
            "node_id": "scope",
            "note_id": "n1",
            "text": "Only CTX-W11-07 is affected.",
        },
    },
    "back": {"summary": "Step back", "value": {"type": "back"}},
    "custom": {
        "summary": "A custom step",
        "value": {
            "type": "custom_step",
            "node_id": "service",
            "text": "Cleared the ListOfDDCs registry value",
            "answer": "done",
        },
    },
    "complete": {"summary": "Complete", "value": {"type": "completed"}},
}
