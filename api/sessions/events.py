"""The shape of every session document a device or the API may write (DOCUMENTS.md).

One typed model per event type plus the header and the client context. The API
(`posting.build_event`, after filling in what it supplies), the sync policy
(`access.SessionsRules.check_write`, on both backends) and the CouchDB design document
(`design_docs/couchdb/branchline-validate/validate_doc_update.js`, checked against these
models by tests/sessions/test_document_schema.py) all refuse the same documents.

`python -m api.sessions.schema_export` exports these models as JSON Schema
(`design_docs/schemas/`) and as the PWA's TypeScript event types (`pwa/src/shared/eventTypes.ts`).

`event_problem(doc)` and friends answer None for a document that fits, or one sentence naming
the field that does not; each caller wraps it in its own error (the API answers 400
`bad_request`; sync answers `forbidden`, as CouchDB's validate_doc_update does, so PouchDB
reports the document as denied and goes on replicating the rest).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_TEXT = 20_000
MAX_ID = 200
# Largest integer a JavaScript number holds exactly: device clocks are JS numbers.
MAX_MS = 2**53 - 1

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]
Millis = Annotated[int, Field(ge=0, le=MAX_MS)]
ActionAnswer = Literal["done", "failed", "skipped"]
Outcome = Literal["resolved", "escalated", "unresolved"]
SID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"


class _Doc(BaseModel):
    # strict: "yesterday" is not a time and "5" is not a size; nothing is coerced. The JSON
    # Schema export allows CouchDB's own `_` fields, which the checks below strip first.
    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"patternProperties": {"^_": {}}}
    )


class _Event(_Doc):
    """What every event carries; the API fills `ts`, `device_id` and `user_id` when absent."""

    schema_version: Literal[1] | None = None
    session_id: Annotated[str, Field(pattern=SID_PATTERN)] | None = None
    ts: Millis
    device_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    user_id: Id


class Answered(_Event):
    type: Literal["answered"]
    node_id: Id
    answer: Id = Field(description="yes/no, an option id, done/failed/skipped, or submitted (input nodes).")
    value: Text | None = Field(None, description="The value entered, for answers of input nodes.")


class Note(_Event):
    type: Literal["note"]
    node_id: Id
    note_id: Id | None = Field(None, description="A later note with the same note_id replaces the text.")
    text: Text


class Back(_Event):
    type: Literal["back"]


class CustomStep(_Event):
    type: Literal["custom_step"]
    node_id: Id
    text: NonEmptyText
    answer: ActionAnswer
    note: Text | None = None


class InputValue(_Event):
    type: Literal["input_value"]
    node_id: Id
    value: Text


class AttachmentAdded(_Event):
    type: Literal["attachment_added"]
    node_id: Id
    attachment_id: Id
    name: Text
    content_type: Text
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    caption: Text | None = None


class Completed(_Event):
    type: Literal["completed"]
    outcome: Outcome | None = None
    summary: Text | None = None


class Reopened(_Event):
    type: Literal["reopened"]


class Abandoned(_Event):
    type: Literal["abandoned"]
    reason: Text | None = None


class Exported(_Event):
    """The notes were exported on the device (offline too). Changes nothing in the session's
    state or exports (the fold skips it); the server files it in the audit log as
    `session.exported` with `via: device` when the event reaches it."""

    type: Literal["exported"]
    format: Literal["markdown", "text", "html", "pdf", "json", "connectwise"]
    how: Literal["copy", "download", "print"] | None = Field(
        None, description="copy: to the clipboard; download: saved as a file; print: printed."
    )


class ScriptRun(_Event):
    """Written by the server only (`api/rmm/recording.py`) when an RMM run ends; devices and
    the events route may not write it, so a session's evidence is what the RMM reported."""

    type: Literal["script_run"]
    node_id: Id
    run_id: Id
    script_id: Id
    script_name: Text | None = None
    parameters: dict[str, Any] | None = Field(
        None, description="The values the script ran with, secrets left out."
    )
    target: dict[str, Any] = Field(description="{system, device_id, device_name?}: where it ran.")
    status: Literal["succeeded", "failed", "timed_out", "in_doubt"]
    exit_code: int | None = None
    output: Text | None = Field(
        None, description="The output's last lines; the whole output is the attachment."
    )
    attachment_id: Id | None = None


SERVER_ONLY_EVENT_TYPES = ("script_run",)

EVENT_MODELS: dict[str, type[_Event]] = {
    "answered": Answered,
    "note": Note,
    "back": Back,
    "custom_step": CustomStep,
    "input_value": InputValue,
    "attachment_added": AttachmentAdded,
    "completed": Completed,
    "reopened": Reopened,
    "abandoned": Abandoned,
    "exported": Exported,
    "script_run": ScriptRun,
}
EVENT_TYPES = tuple(EVENT_MODELS)
COMMON_EVENT_FIELDS = tuple(_Event.model_fields)


def event_fields(etype: str) -> tuple[str, ...]:
    """The fields an event type adds to the common ones."""
    return tuple(f for f in EVENT_MODELS[etype].model_fields if f not in COMMON_EVENT_FIELDS and f != "type")


class SessionHeader(_Doc):
    """`session:{sid}`. Fields are typed where present; `history` and integration fields
    (e.g. `psa`) are written by the server, so further fields are allowed here."""

    model_config = ConfigDict(strict=True, extra="allow")
    type: Literal["session"]
    schema_version: Literal[1] | None = None
    tree_id: Id | None = None
    tree_version: Annotated[int, Field(ge=1)] | None = None
    ticket: Text | None = None
    client_id: Id | None = None
    title: Text | None = None
    owner_id: Id | None = None
    shared_with: list[Id] | None = None
    status: Literal["in_progress", "completed", "abandoned"] | None = None
    created_at: Millis | None = None
    updated_at: Millis | None = None
    device_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    edited: dict[str, Millis] | None = None
    edited_values: dict[str, dict[str, Any]] | None = None
    history: list[dict[str, Any]] | None = None


class ClientContext(_Doc):
    """`client:{slug}` in the `clients` database."""

    type: Literal["client"]
    schema_version: Literal[1] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
    values: dict[str, Any] | None = None
    notes: Annotated[str, Field(max_length=20_000)] | None = None
    # Written by the server (first run's example clients), ISO 8601 like every server time.
    created_at: Text | None = None
    updated_at: Text | None = None


def _body(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without CouchDB's own fields (`_id`, `_rev`, `_revisions`...)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _describe(kind: str, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = err.get("loc") or ()
    field = str(loc[0]) if loc else "the document"
    where = ".".join(str(p) for p in loc)
    etype = err.get("type", "")
    if etype == "missing":
        return f"A {kind} needs `{field}`."
    if etype == "extra_forbidden":
        extra = [str(e["loc"][0]) for e in exc.errors() if e.get("type") == "extra_forbidden"]
        return f"A {kind} has no field(s) {', '.join(extra)}; leave them out."
    if etype == "string_type":
        return f"`{where}` of a {kind} must be a string."
    if field == "ts" or (field in ("created_at", "updated_at", "edited") and etype.startswith("int")):
        return f"`{where}` of a {kind} must be a time in UTC milliseconds (a whole number, like Date.now())."
    if etype == "literal_error":
        choices = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        return f"`{where}` of a {kind} must be one of {', '.join(choices)}."
    if etype == "string_too_long":
        return f"`{where}` of a {kind} is longer than {err['ctx']['max_length']} characters; shorten it."
    if etype in ("string_too_short", "string_pattern_mismatch") and field in ("text", "name"):
        return f"`{where}` of a {kind} must not be empty."
    if field == "sha256":
        return f"`sha256` of a {kind} must be 64 lowercase hex digits (the file's SHA-256)."
    return f"`{where}` of a {kind} is not valid: {err.get('msg')}."


def event_problem(doc: dict[str, Any]) -> str | None:
    """None when `doc` is a well-formed event, else a sentence naming the wrong field."""
    etype = doc.get("type")
    model = EVENT_MODELS.get(etype) if isinstance(etype, str) else None
    if model is None:
        # Quoted as JSON, as the CouchDB validator (JavaScript) quotes it: one sentence on every path.
        return (
            f"Unknown event type {json.dumps(etype, ensure_ascii=False)} (`type`); "
            f"use one of {', '.join(EVENT_TYPES)}."
        )
    try:
        model.model_validate(_body(doc))
    except ValidationError as exc:
        return _describe(f"{etype} event", exc)
    return None


def header_problem(doc: dict[str, Any]) -> str | None:
    try:
        SessionHeader.model_validate(_body(doc))
    except ValidationError as exc:
        return _describe("session header", exc)
    return None


def client_problem(doc: dict[str, Any]) -> str | None:
    try:
        ClientContext.model_validate(_body(doc))
    except ValidationError as exc:
        return _describe("client context", exc)
    return None
