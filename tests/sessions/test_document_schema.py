"""The document schema (api/sessions/events.py) and the CouchDB design document agree.

The same documents go through the Python schema, as the API and the sync policy apply it, and
through design_docs/couchdb/branchline-validate/validate_doc_update.js, run in Node as
CouchDB runs it: every document the app writes passes both, and every mutation (a required
field left out, a wrong type, an unknown field, a value out of range) is refused by both,
each naming the field. A field added to one and not the other fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.sessions import events

RUNNER = Path(__file__).with_name("validate_runner.mjs")
SID = "01JD3Z8Q6V9R1W0K2M4N5P7S8T"
EV = f"session:{SID}:ev:01JD3Z8Q6V9R1W0K2M4N5P7S9A"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

# What the PWA writes (pwa/src/data/sessions.ts addEvent, attachments/queue.ts), per type.
APP_EVENTS: dict[str, dict[str, Any]] = {
    "answered": {"node_id": "vda", "answer": "submitted", "value": "CTX-W11-07"},
    "note": {"node_id": "scope", "note_id": "01JD3Z8Q6V9R1W0K2M4N5P7S9B", "text": "Only one VDA."},
    "back": {},
    "custom_step": {"node_id": "service", "text": "Cleared ListOfDDCs", "answer": "done", "note": "Stale."},
    "input_value": {"node_id": "vda", "value": "CTX-W11-0"},
    "attachment_added": {
        "node_id": "scope",
        "attachment_id": "01JD3Z8Q6V9R1W0K2M4N5P7S9C",
        "name": "screenshot.png",
        "content_type": "image/png",
        "size": 5120,
        "sha256": SHA,
        "caption": "Studio shows Unregistered",
    },
    "completed": {"outcome": "resolved", "summary": "Re-registered after the restart."},
    "reopened": {},
    "abandoned": {"reason": "Customer ended the call."},
    "exported": {"format": "markdown", "how": "copy"},
    # Written by the server only, when an RMM run ends (api/rmm/recording.py).
    "script_run": {
        "node_id": "service",
        "run_id": "01JD3Z8Q6V9R1W0K2M4N5P7S9D",
        "script_id": "script:broker-status",
        "script_name": "Broker agent status",
        "parameters": {"service": "BrokerAgent"},
        "target": {"system": "ninjaone", "device_id": "1007", "device_name": "CTX-VDA-07"},
        "status": "succeeded",
        "exit_code": -1073741510,
        "output": "Running BrokerAgent",
        "attachment_id": "rmm-01JD3Z8Q6V9R1W0K2M4N5P7S9D",
    },
}
HEADER = {
    "_id": f"session:{SID}",
    "type": "session",
    "schema_version": 1,
    "tree_id": "tree:citrix",
    "tree_version": 3,
    "ticket": "T20261126.0042",
    "client_id": "client:contoso",
    "title": "VDA down",
    "owner_id": "k3j2h1g0f9e8",
    "shared_with": ["a1b2c3d4e5f6"],
    "status": "in_progress",
    "created_at": 1795651200000,
    "updated_at": 1795651260000,
    "device_id": "dev-7f3a",
    "edited": {"ticket": 1795651200000},
    "edited_values": {"ticket": {"at": 1795651200000, "value": "T"}},
    "history": [{"field": "ticket", "value": "T-OLD", "edited": 1795651100000, "rev": "2-abc"}],
}
CLIENT = {
    "_id": "client:contoso",
    "type": "client",
    "schema_version": 1,
    "name": "Contoso Ltd",
    "values": {"domain": "contoso.local"},
    "notes": "After-hours changes need approval.",
}

# A value of the wrong kind for each kind of field.
WRONG = {str: 5, int: "5"}
# Passed as a field's value to `event_doc`: leave the field out.
_DROP = object()


def event_doc(etype: str, **extra: Any) -> dict[str, Any]:
    doc = {
        "_id": EV,
        "_rev": "1-abc",
        "type": etype,
        "schema_version": 1,
        "session_id": SID,
        "ts": 1795651200000,
        "device_id": "dev-7f3a",
        "user_id": "k3j2h1g0f9e8",
        **APP_EVENTS[etype],
    }
    doc.update(extra)
    return {k: v for k, v in doc.items() if v is not _DROP}


def python_verdict(doc: dict[str, Any]) -> str | None:
    """The schema's refusal, as the sync policy applies it (api/sessions/access.py)."""
    docid = doc["_id"]
    if docid.startswith("client:"):
        return events.client_problem(doc)
    if ":ev:" in docid:
        if "session_id" in doc and doc["session_id"] != SID:
            return "`session_id` does not match"
        return events.event_problem(doc)
    return events.header_problem(doc)


def js_verdicts(docs: list[dict[str, Any]]) -> list[str | None]:
    if shutil.which("node") is None:
        pytest.fail("Node.js is needed to run the design document")
    proc = subprocess.run(
        ["node", str(RUNNER)],
        input=json.dumps([[d, None] for d in docs]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def mutations() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, field, document) for documents both validators must refuse."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for etype, model in events.EVENT_MODELS.items():
        for name, info in model.model_fields.items():
            if name == "type":
                continue
            if info.is_required():
                out.append((f"{etype} without {name}", name, event_doc(etype, **{name: _DROP})))
                out.append((f"{etype} with null {name}", name, event_doc(etype, **{name: None})))
            kind = int if name in ("ts", "size", "schema_version", "exit_code") else str
            out.append((f"{etype} with a wrong {name}", name, event_doc(etype, **{name: WRONG[kind]})))
        out.append((f"{etype} with an unknown field", "colour", event_doc(etype, colour="red")))
        out.append((f"{etype} with a fractional ts", "ts", event_doc(etype, ts=1.5)))
        out.append((f"{etype} with a negative ts", "ts", event_doc(etype, ts=-1)))
        out.append((f"{etype} with a boolean ts", "ts", event_doc(etype, ts=True)))
        out.append((f"{etype} with ts past 2**53", "ts", event_doc(etype, ts=2**53)))
        out.append((f"{etype} of schema_version 2", "schema_version", event_doc(etype, schema_version=2)))
        out.append((f"{etype} with an empty user_id", "user_id", event_doc(etype, user_id="")))
    out += [
        ("bogus type", "type", event_doc("back", type="bogus")),
        ("empty node_id", "node_id", event_doc("note", node_id="")),
        ("blank custom step", "text", event_doc("custom_step", text="  ")),
        ("custom step answer maybe", "answer", event_doc("custom_step", answer="maybe")),
        ("outcome great", "outcome", event_doc("completed", outcome="great")),
        ("exported as a fax", "format", event_doc("exported", format="fax")),
        ("exported by e-mail", "how", event_doc("exported", how="email")),
        ("negative size", "size", event_doc("attachment_added", size=-1)),
        ("boolean size", "size", event_doc("attachment_added", size=True)),
        ("uppercase sha256", "sha256", event_doc("attachment_added", sha256=SHA.upper())),
        ("a long note", "text", event_doc("note", text="x" * (events.MAX_TEXT + 1))),
        ("another session's id", "session_id", event_doc("back", session_id="01JD3Z8Q6V9R1W0K2M4N5P7S8X")),
        ("device_id of 101 characters", "device_id", event_doc("back", device_id="d" * 101)),
    ]
    header_changes = [
        ("type", "sessions"),
        ("tree_version", "3"),
        ("tree_version", 0),
        ("status", "paused"),
        ("shared_with", "everyone"),
        ("shared_with", [5]),
        ("owner_id", 7),
        ("ticket", 42),
        ("created_at", "yesterday"),
        ("updated_at", 1.5),
        ("edited", {"ticket": "now"}),
        ("edited_values", ["x"]),
        ("history", {"a": 1}),
        ("schema_version", 2),
    ]
    out += [(f"header with {f}={v!r}", f, {**HEADER, f: v}) for f, v in header_changes]
    client_changes = [
        ("type", "clients"),
        ("name", ""),
        ("name", " "),
        ("name", 5),
        ("values", ["a"]),
        ("notes", 5),
        ("colour", "red"),
        ("schema_version", 2),
    ]
    out += [(f"client with {f}={v!r}", f, {**CLIENT, f: v}) for f, v in client_changes]
    out.append(("client without name", "name", {k: v for k, v in CLIENT.items() if k != "name"}))
    return out


def test_every_document_the_app_writes_passes_both():
    docs = [event_doc(t) for t in APP_EVENTS]
    docs += [
        event_doc("note", note_id=_DROP),
        event_doc("completed", outcome=_DROP, summary=_DROP),
        event_doc("abandoned", reason=_DROP),
        event_doc("exported", format="text", how=_DROP),
        event_doc("attachment_added", caption=_DROP),
        event_doc("back", schema_version=_DROP, session_id=_DROP, device_id=_DROP),
        event_doc("completed", summary=""),
        event_doc("answered", node_id="scope", answer="yes", value=_DROP),
    ]
    docs += [
        HEADER,
        {"_id": f"session:{SID}", "type": "session", "owner_id": "u1"},
        {**HEADER, "psa": {"system": "connectwise", "ticket_id": 42}},
        CLIENT,
        {"_id": "client:acme", "type": "client", "name": "Acme"},
        {**CLIENT, "created_at": "2026-11-26T00:00:00Z"},
    ]
    assert {d["type"] for d in docs if ":ev:" in d["_id"]} == set(events.EVENT_TYPES)
    assert [python_verdict(d) for d in docs] == [None] * len(docs)
    assert js_verdicts(docs) == [None] * len(docs)


def test_both_refuse_the_same_documents_naming_the_field():
    cases = mutations()
    js = js_verdicts([doc for _, _, doc in cases])
    disagreements = []
    for (label, field, doc), js_reason in zip(cases, js, strict=True):
        py_reason = python_verdict(doc)
        if py_reason is None or js_reason is None or field not in py_reason or field not in js_reason:
            disagreements.append((label, py_reason, js_reason))
    assert disagreements == [], "\n".join(map(repr, disagreements))
