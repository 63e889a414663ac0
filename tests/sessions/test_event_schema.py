"""The session documents' schema, exported: JSON Schema files and the PWA's TypeScript types.

`python -m api.sessions.schema_export` writes them from api/sessions/events.py; the committed
files must be exactly what it writes (the PWA's `addEvent` calls are then checked against the
types by tsc in `npm run build`). The JSON Schema must judge documents as the models do: every
document the app writes passes it, every mutation of tests/sessions/test_document_schema.py
that the models refuse, it refuses too.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from api.sessions import schema_export
from tests.sessions.test_document_schema import (
    APP_EVENTS,
    CLIENT,
    HEADER,
    SID,
    event_doc,
    mutations,
    python_verdict,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(schema_export.schema_texts()))
def test_committed_schema_files_are_current(name: str) -> None:
    committed = REPO / "design_docs" / "schemas" / name
    assert committed.is_file(), f"{committed} is missing: run `python -m api.sessions.schema_export`"
    assert committed.read_text(encoding="utf-8") == schema_export.schema_texts()[name], (
        f"{name} differs from api/sessions/events.py: "
        "run `python -m api.sessions.schema_export` and commit it"
    )


def test_the_pwa_event_types_are_generated_from_the_committed_schema() -> None:
    schema = json.loads(
        (REPO / "design_docs" / "schemas" / schema_export.EVENT_SCHEMA).read_text(encoding="utf-8")
    )
    committed = REPO / "pwa" / "src" / "shared" / "eventTypes.ts"
    assert committed.read_text(encoding="utf-8") == schema_export.typescript_text(schema), (
        "pwa/src/shared/eventTypes.ts differs from the schema: run `python -m api.sessions.schema_export`"
    )


def test_export_writes_every_file(tmp_path: Path) -> None:
    written = schema_export.export(tmp_path)
    assert sorted(p.name for p in written) == sorted([*schema_export.schema_texts(), "eventTypes.ts"])


@functools.cache
def _validator_of(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_export.schema_texts()[f"{name}.schema.json"])
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _validator(doc: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return _validator_of(
        "client_context"
        if doc["_id"].startswith("client:")
        else "session_event"
        if ":ev:" in doc["_id"]
        else "session_header"
    )


def test_every_document_the_app_writes_fits_the_json_schema() -> None:
    docs = [event_doc(t) for t in APP_EVENTS] + [HEADER, CLIENT]
    problems = {d["_id"] + " " + d["type"]: [e.message for e in _validator(d).iter_errors(d)] for d in docs}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_json_schema_refuses_what_the_models_refuse() -> None:
    missed = []
    for label, _field, doc in mutations():
        if doc.get("session_id") not in (None, SID):
            continue  # which session an event belongs to is its id's business, not the schema's
        assert python_verdict(doc) is not None, label
        if not list(_validator(doc).iter_errors(doc)):
            missed.append(label)
    assert missed == []
