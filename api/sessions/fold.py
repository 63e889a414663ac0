"""The session fold: a session's state as a pure function of its events.

A session is a header document plus immutable event documents (DESIGN.md, "Sessions:
conflict-free by design"). Two devices may work on the same session offline; their events
replicate later in any order. This function turns whatever events have arrived into one
state, deterministically, so that the server and every device agree once they hold the same
events. `pwa/src/shared/fold.ts` is the same function in TypeScript; both are checked
against the hand-checked fixtures in `tests/golden/fold/` and against each other by a
property test. Change one, change the other in the same commit.

Ordering
    Events are applied in the order of (`ts`, `device_id`, `_id`). Strings compare by code
    point. A missing or non-numeric `ts` counts as 0, a missing `device_id` or `_id` as "".
    A second event with an `_id` already seen is skipped (reason "duplicate").

Event rules (where DESIGN.md is silent, these are the decisions)
    answered      `node_id` must be the current node and the session in progress, otherwise
                  the event is ignored (the API refuses it with 409 up front; two offline
                  devices can still both answer, and the first in order wins).
                  question: `answer` "yes"/"no"; choice: an option id; action:
                  "done"/"failed"/"skipped" (an action whose `next` is one node id uses it
                  for every answer); input: `answer` "submitted" and the value in `value`,
                  or, when the event has no string `value`, the latest `input_value` draft
                  for that node; no value at all is recorded as null. A resolution cannot
                  be answered. An answer whose target node is not in the tree is ignored.
    input_value   Saves a draft for an input node (`drafts[node_id]`); does not advance and
                  does not change `inputs`. Kept whatever the current node is, like a note,
                  while the session is in progress.
    note          Always kept, on any node (even one never on the path), at any status.
                  `note_id` identifies the note across events: a later event with the same
                  `note_id` replaces the text in place; the note stays under the node of its
                  first write. An empty text is kept as "" (exports skip empty notes).
    attachment_added
                  Always kept, on any node, at any status (an upload queued offline may land
                  after the session was completed elsewhere). Keyed by `attachment_id`; a
                  repeat replaces the metadata in place (upload retries are idempotent).
    script_run    Written by the server when an RMM run ends (`script_runs[node_id]`). Always
                  kept, on any node, at any status, like an attachment; keyed by `run_id`,
                  a repeat replacing the record in place.
    custom_step   Kept while in progress whatever the current node (it records work done);
                  it sits after the last effective path step at the moment it is folded
                  (`after_step`, -1 before the first step) and does not move the current
                  node. `node_id` must be a node of the tree.
    back          Undoes the latest effective entry, a path step or a custom step, whichever
                  came last. The undone entry moves to `tried`. Undoing a path step makes
                  its node current again; undoing a custom step leaves the current node
                  alone. Back with nothing to undo does nothing.
    completed     Ends the session: `outcome` from the event if it is one of
                  resolved/escalated/unresolved, else the reached resolution's outcome, else
                  "unresolved"; `summary` from the event if it is a string, else the
                  resolution's summary (placeholders filled), else null.
    abandoned     Ends the session without an outcome; an optional `reason` is kept in
                  `history`.
    reopened      Only from completed or abandoned: back to in progress at the node where
                  the session stood (usually the resolution), path untouched; the engineer
                  steps back from there if the fix did not hold. Outcome, summary and
                  ended_at are cleared; the earlier ending stays in `history`.
    exported      A record that the notes were exported on a device (the server files it in
                  the audit log). Left out before anything else, as if it had never been
                  written: it is not ordered, not timed, not listed in `ignored`, so no
                  state and no export changes because someone exported.
    After completed or abandoned, only note, attachment_added, script_run and reopened apply.
    Every event that does not apply is listed in `ignored` with a reason, so a
    disagreement between two devices is visible rather than silent.

Sentences
    A step's `log` is the answer's log sentence with `{{input.NAME}}` taken from the inputs
    committed by the path up to and including that step, and `{{client.A.B}}` looked up in
    the client document (nested objects by dots). Strings are used as they are; integral
    numbers are written in decimal; anything else, a missing value or "" becomes a
    labelled gap (`gap_text`): "<vda_name: not entered>" for `{{input.vda_name}}`,
    "<client.site.city: not recorded>" for `{{client.site.city}}`, "<unknown placeholder>"
    for a name that is neither. Angle brackets because that is how a command's documentation
    marks a value still to be supplied, so a gap reads as one in a copied command as well as
    in a sentence, and it names the value that was missing. A stray `{{` in the tree's text
    that opens no placeholder is reduced to `{`, so template syntax never reaches an
    export. Node titles and the resolution's summary, root cause, verification and handover text are
    filled the same way, and so are the commands the runner shows and exports list (`fill`
    is the one filler of tree text on the server; `fill` in fold.ts is its twin). Text the
    engineer typed (notes, values, custom steps, summaries) is never template-processed.

Time
    `started_at` is the header's `created_at` when it is an integer (ms), else the first
    event's `ts`. A node becomes current at `started_at` (the start node) or at the `ts` of
    the event that moved the session to it; a step's `duration_ms` runs from there to the
    answer, never below 0 (device clocks disagree). `elapsed_ms` runs from `started_at` to
    `ended_at`, else to `now_ms`, else to the last event's `ts`.

Progress
    Steps taken / (steps taken + fewest answers from the current node to any resolution);
    1.0 at a resolution and once completed; null when no resolution can be reached.

Maps (`notes`, `inputs`, `drafts`, `attachments`) are JSON objects: JavaScript reorders
integer-like keys, so consumers order by the entries' own fields or by the path, never by
key order.
"""

from __future__ import annotations

import re
from typing import Any

SCHEMA_VERSION = 1

NOT_RECORDED = "(not recorded)"

_OUTCOMES = ("resolved", "escalated", "unresolved")
_QUESTION_LABELS = {"yes": "Yes", "no": "No"}
_ACTION_LABELS = {"done": "Done", "failed": "Failed", "skipped": "Skipped"}
_ATTACHMENT_FIELDS = ("attachment_id", "name", "content_type", "size", "sha256", "caption")
_SCRIPT_RUN_FIELDS = (
    "run_id",
    "script_id",
    "script_name",
    "parameters",
    "target",
    "status",
    "exit_code",
    "output",
    "attachment_id",
)
_PLACEHOLDER = re.compile(r"\{\{([\s\S]*?)\}\}")
_NAME_PART = re.compile(r"[A-Za-z0-9_\-]+")
_MAX_SAFE = 2**53 - 1  # beyond this JavaScript numbers lose integers


def fold_session(
    tree: dict[str, Any],
    events: list[dict[str, Any]],
    header: dict[str, Any] | None = None,
    client: dict[str, Any] | None = None,
    now_ms: int | None = None,
    *,
    texts: bool = True,
) -> dict[str, Any]:
    """Fold a session's events over its pinned tree into the session state.

    `texts=False` (Python only; the analytics rollups) leaves the steps' `title` and `log`
    and the resolution's texts None: filling placeholders is most of a fold's cost and
    figures never read them. Everything else is the same state.

    Pure and deterministic: the same tree, events (in any order), header, client and
    `now_ms` always give the same state, equal to what `fold.ts` gives. The rules are in
    the module docstring; the state's shape is documented in `tests/golden/README.md`.
    """
    return FoldProgress(tree, events, header, client, texts=texts).state(now_ms)


class FoldProgress:
    """A fold part way: what the fold accumulated over the events it has applied, in order.

    `fold_session` makes one over all of a session's events and answers its `state`. The
    API keeps one with the session it holds in memory (state_cache.py), and a step recorded
    after every event already applied (nearly always: its `ts` is now) is applied to it
    with `then` instead of folding the whole session again; the state is the same as a fold
    from scratch (tests/sessions/test_fold_progress.py checks that on random sessions).
    Applying changes it in place: whoever applies must own it (`SessionStates.take_fold`).
    """

    def __init__(
        self,
        tree: dict[str, Any],
        events: list[dict[str, Any]],
        header: dict[str, Any] | None = None,
        client: dict[str, Any] | None = None,
        *,
        texts: bool = True,
    ) -> None:
        ordered = sorted(
            (e for e in events if isinstance(e, dict) and e.get("type") != "exported"), key=_order_key
        )
        self.nodes = _obj(tree.get("nodes"))
        self.header = header if isinstance(header, dict) else {}
        self.client = client if isinstance(client, dict) else {}
        self.texts = texts
        created = _as_int(self.header.get("created_at"))
        if created is not None:
            self.started_at: int | None = created
        elif ordered:
            self.started_at = _ts(ordered[0])
        else:
            self.started_at = None
        self.status = "in_progress"
        self.current = _str(tree.get("start"))
        self.current_since = self.started_at
        self.path: list[dict[str, Any]] = []
        self.custom_steps: list[dict[str, Any]] = []
        # The effective entries, path steps and custom steps alike.
        self.undo_stack: list[dict[str, Any]] = []
        self.tried: list[dict[str, Any]] = []
        # Each entry by its id, as (the list it is in, its place there): an edit replaces the
        # entry with a new dict rather than changing it, so a state answered earlier, which
        # shares the entries, never changes (`state(copy=True)` copies only the lists).
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self.note_index: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self.drafts: dict[str, Any] = {}
        self.attachments: dict[str, list[dict[str, Any]]] = {}
        self.attachment_index: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self.script_runs: dict[str, list[dict[str, Any]]] = {}
        self.script_run_index: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self.history: list[dict[str, Any]] = []
        self.ignored: list[dict[str, Any]] = []
        self.outcome: str | None = None
        self.summary: Any = None
        self.ended_at: int | None = None
        self.last_ts: int | None = None
        self.seen_ids: set[str] = set()
        # The order key of the last event applied; None before the first.
        self.last_key: tuple[int, str, str] | None = None
        self._advance(ordered)

    def then(self, ev: dict[str, Any]) -> bool:
        """Apply one more event if it comes after every event applied so far (in the fold's
        order); False, and nothing changed, when it does not (fold from scratch then)."""
        if not isinstance(ev, dict):
            return False
        if ev.get("type") == "exported":
            return True  # never folded
        if self.last_key is None or _order_key(ev) <= self.last_key:
            return False
        self._advance([ev])
        return True

    def _advance(self, ordered: list[dict[str, Any]]) -> None:
        """Apply `ordered` (in the fold's order, after everything applied before)."""
        # The loop works on locals, as fast as the single function it was; the scalars go
        # back to the object at the end, the containers are the object's own.
        nodes, client, texts = self.nodes, self.client, self.texts
        status, current, current_since = self.status, self.current, self.current_since
        path, custom_steps, undo_stack, tried = self.path, self.custom_steps, self.undo_stack, self.tried
        notes, note_index, drafts = self.notes, self.note_index, self.drafts
        attachments, attachment_index = self.attachments, self.attachment_index
        script_runs, script_run_index = self.script_runs, self.script_run_index
        history, ignored, seen_ids = self.history, self.ignored, self.seen_ids
        outcome, summary, ended_at, last_ts = self.outcome, self.summary, self.ended_at, self.last_ts

        def ignore(ev: dict[str, Any], reason: str) -> None:
            ignored.append({"event_id": _str(ev.get("_id")), "type": _str(ev.get("type")), "reason": reason})

        for ev in ordered:
            ev_id = _str(ev.get("_id"))
            ts = _ts(ev)
            last_ts = ts
            if ev_id:
                if ev_id in seen_ids:
                    ignore(ev, "duplicate")
                    continue
                seen_ids.add(ev_id)
            kind = ev.get("type")
            device_id = _str(ev.get("device_id"))
            user_id = _str(ev.get("user_id"))
            node_id = ev.get("node_id")

            if kind == "note":
                note_id = ev.get("note_id")
                text = ev.get("text")
                if not isinstance(node_id, str) or not isinstance(note_id, str) or not isinstance(text, str):
                    ignore(ev, "bad_fields")
                    continue
                place = note_index.get(note_id)
                if place is not None:
                    items, i = place
                    items[i] = {
                        **items[i],
                        "text": text,
                        "updated_at": ts,
                        "device_id": device_id,
                        "user_id": user_id,
                    }
                else:
                    items = notes.setdefault(node_id, [])
                    note_index[note_id] = (items, len(items))
                    items.append(
                        {
                            "note_id": note_id,
                            "text": text,
                            "ts": ts,
                            "updated_at": ts,
                            "device_id": device_id,
                            "user_id": user_id,
                        }
                    )
                continue

            if kind == "attachment_added":
                attachment_id = ev.get("attachment_id")
                if not isinstance(node_id, str) or not isinstance(attachment_id, str):
                    ignore(ev, "bad_fields")
                    continue
                meta = {field: ev.get(field) for field in _ATTACHMENT_FIELDS}
                meta.update({"ts": ts, "device_id": device_id, "user_id": user_id})
                place = attachment_index.get(attachment_id)
                if place is not None:
                    items, i = place
                    items[i] = {**items[i], **meta}
                else:
                    items = attachments.setdefault(node_id, [])
                    attachment_index[attachment_id] = (items, len(items))
                    items.append(meta)
                continue

            if kind == "script_run":
                # Evidence the server recorded when an RMM run ended: kept whatever the status,
                # like an attachment; one entry per run, a repeat replacing it in place.
                run_id = ev.get("run_id")
                if not isinstance(node_id, str) or not isinstance(run_id, str):
                    ignore(ev, "bad_fields")
                    continue
                run = {field: ev.get(field) for field in _SCRIPT_RUN_FIELDS}
                run.update({"ts": ts, "device_id": device_id, "user_id": user_id})
                place = script_run_index.get(run_id)
                if place is not None:
                    items, i = place
                    items[i] = {**items[i], **run}
                else:
                    items = script_runs.setdefault(node_id, [])
                    script_run_index[run_id] = (items, len(items))
                    items.append(run)
                continue

            if kind == "reopened":
                if status == "in_progress":
                    ignore(ev, "not_ended")
                    continue
                status = "in_progress"
                outcome = None
                summary = None
                ended_at = None
                history.append({"type": "reopened", "ts": ts, "device_id": device_id, "user_id": user_id})
                continue

            if kind not in ("answered", "input_value", "custom_step", "back", "completed", "abandoned"):
                ignore(ev, "unknown_type")
                continue
            if status != "in_progress":
                ignore(ev, "not_in_progress")
                continue

            if kind == "answered":
                if not isinstance(node_id, str) or not isinstance(ev.get("answer"), str):
                    ignore(ev, "bad_fields")
                    continue
                if node_id != current:
                    ignore(ev, "not_current")
                    continue
                node = nodes.get(current)
                step = _answer_step(node, ev, drafts.get(current)) if isinstance(node, dict) else None
                if step is None or not isinstance(node, dict):
                    ignore(ev, "bad_answer")
                    continue
                if step["next_node"] not in nodes:
                    ignore(ev, "unknown_next")
                    continue
                if texts:
                    inputs_before = _inputs_of(path, nodes)
                    if step["node_type"] == "input" and isinstance(node.get("variable"), str):
                        inputs_before[node["variable"]] = step["value"]
                    step["title"] = fill(node.get("title"), inputs_before, client)
                    step["log"] = fill(step["log"], inputs_before, client)
                else:
                    step["title"] = step["log"] = None
                step.update(
                    {
                        "event_id": ev_id,
                        "ts": ts,
                        "device_id": device_id,
                        "user_id": user_id,
                        "arrived_at": current_since,
                        "duration_ms": max(0, ts - current_since) if current_since is not None else 0,
                    }
                )
                path.append(_ordered_step(step))
                undo_stack.append(path[-1])
                current = step["next_node"]
                current_since = ts
                continue

            if kind == "input_value":
                value = ev.get("value")
                if not isinstance(node_id, str) or not isinstance(value, str):
                    ignore(ev, "bad_fields")
                    continue
                node = nodes.get(node_id)
                if not isinstance(node, dict) or node.get("type") != "input":
                    ignore(ev, "not_an_input")
                    continue
                drafts[node_id] = value
                continue

            if kind == "custom_step":
                text = ev.get("text")
                answer = ev.get("answer")
                custom_note = ev.get("note")
                if (
                    not isinstance(node_id, str)
                    or not isinstance(text, str)
                    or not isinstance(answer, str)
                    or answer not in _ACTION_LABELS
                ):
                    ignore(ev, "bad_fields")
                    continue
                if node_id not in nodes:
                    ignore(ev, "unknown_node")
                    continue
                custom = {
                    "kind": "custom",
                    "event_id": ev_id,
                    "node_id": node_id,
                    "text": text,
                    "answer": answer,
                    "answer_label": _ACTION_LABELS[answer],
                    "note": custom_note if isinstance(custom_note, str) else None,
                    "after_step": len(path) - 1,
                    "ts": ts,
                    "device_id": device_id,
                    "user_id": user_id,
                }
                custom_steps.append(custom)
                undo_stack.append(custom)
                continue

            if kind == "back":
                if not undo_stack:
                    ignore(ev, "nothing_to_undo")
                    continue
                entry = undo_stack.pop()
                undone = dict(entry)
                if entry["kind"] == "step":
                    path.pop()
                    undone["position"] = len(path)
                    current = entry["node_id"]
                    current_since = ts
                else:
                    custom_steps.pop()
                undone["undone_at"] = ts
                undone["undone_by_device"] = device_id
                undone["undone_by_user"] = user_id
                tried.append(undone)
                continue

            resolution = _resolution(nodes, current, _inputs_of(path, nodes), client)
            if kind == "completed":
                ev_outcome = ev.get("outcome")
                ev_summary = ev.get("summary")
                if ev_outcome in _OUTCOMES:
                    outcome = ev_outcome
                elif resolution is not None and resolution["outcome"] in _OUTCOMES:
                    outcome = resolution["outcome"]
                else:
                    outcome = "unresolved"
                if isinstance(ev_summary, str):
                    summary = ev_summary
                elif resolution is not None:
                    summary = resolution["summary"]
                else:
                    summary = None
                status = "completed"
                ended_at = ts
                history.append(
                    {
                        "type": "completed",
                        "ts": ts,
                        "device_id": device_id,
                        "user_id": user_id,
                        "outcome": outcome,
                        "summary": summary,
                    }
                )
                continue

            # abandoned
            reason = ev.get("reason")
            status = "abandoned"
            ended_at = ts
            history.append(
                {
                    "type": "abandoned",
                    "ts": ts,
                    "device_id": device_id,
                    "user_id": user_id,
                    "reason": reason if isinstance(reason, str) else None,
                }
            )

        self.status, self.current, self.current_since = status, current, current_since
        self.outcome, self.summary, self.ended_at, self.last_ts = outcome, summary, ended_at, last_ts
        if ordered:
            self.last_key = _order_key(ordered[-1])

    def state(self, now_ms: int | None = None, *, copy: bool = False) -> dict[str, Any]:
        """The session state after the events applied, timed at `now_ms`. `copy`: none of its
        parts is shared with this object, which may then apply more events without changing
        a state answered before."""
        nodes, client, texts, header = self.nodes, self.client, self.texts, self.header
        status, current, current_since = self.status, self.current, self.current_since
        started_at, ended_at, last_ts = self.started_at, self.ended_at, self.last_ts
        outcome, summary = self.outcome, self.summary
        path, custom_steps, tried, history, ignored = (
            self.path,
            self.custom_steps,
            self.tried,
            self.history,
            self.ignored,
        )
        notes, drafts, attachments, script_runs = self.notes, self.drafts, self.attachments, self.script_runs
        if copy:
            # Entries are never changed once made (an edit replaces a note with a new dict):
            # copying the containers is enough.
            path, custom_steps, tried, history, ignored = (
                list(path),
                list(custom_steps),
                list(tried),
                list(history),
                list(ignored),
            )
            notes = {node: list(items) for node, items in notes.items()}
            attachments = {node: list(items) for node, items in attachments.items()}
            script_runs = {node: list(items) for node, items in script_runs.items()}
            drafts = dict(drafts)

        inputs = _inputs_of(path, nodes)
        resolution = _resolution(nodes, current, inputs, client, texts)
        distance = _distances_to_resolution(nodes).get(current)
        if status == "completed" or distance == 0:
            progress = 1.0
        elif distance is None:
            progress = None
        else:
            progress = len(path) / (len(path) + distance)

        if started_at is None:
            elapsed_ms = None
        else:
            now = _as_int(now_ms)
            until = ended_at if ended_at is not None else (now if now is not None else last_ts)
            elapsed_ms = max(0, until - started_at) if until is not None else 0

        session_id = header.get("_id")
        if isinstance(session_id, str) and session_id.startswith("session:"):
            session_id = session_id[len("session:") :]
        elif not isinstance(session_id, str):
            session_id = None

        return {
            "schema_version": SCHEMA_VERSION,
            "session_id": session_id,
            "status": status,
            "current_node": current,
            "current_since": current_since,
            "progress": progress,
            "path": path,
            "custom_steps": custom_steps,
            "tried": tried,
            "notes": notes,
            "inputs": inputs,
            "drafts": drafts,
            "attachments": attachments,
            "script_runs": script_runs,
            "resolution": resolution,
            "outcome": outcome,
            "summary": summary,
            "started_at": started_at,
            "ended_at": ended_at,
            "elapsed_ms": elapsed_ms,
            "history": history,
            "ignored": ignored,
        }


def _answer_step(node: dict[str, Any], ev: dict[str, Any], draft: Any) -> dict[str, Any] | None:
    """The step an answer makes at `node`, before sentences are filled; None if invalid."""
    node_type = node.get("type")
    answer = ev["answer"]
    value = None
    if node_type == "question":
        if answer not in _QUESTION_LABELS:
            return None
        label = _QUESTION_LABELS[answer]
        nxt = _pick(node.get("next"), answer)
        log = _pick(node.get("log"), answer)
    elif node_type == "action":
        if answer not in _ACTION_LABELS:
            return None
        label = _ACTION_LABELS[answer]
        nxt = _pick(node.get("next"), answer)
        log = _pick(node.get("log"), answer)
    elif node_type == "choice":
        options = _items(node.get("options"))
        option = next((o for o in options if isinstance(o, dict) and o.get("id") == answer), None)
        if option is None:
            return None
        given_label = option.get("label")
        label = given_label if isinstance(given_label, str) else answer
        nxt = option.get("next")
        log = option.get("log")
    elif node_type == "input":
        if answer != "submitted":
            return None
        given = ev.get("value")
        value = given if isinstance(given, str) else (draft if isinstance(draft, str) else None)
        label = value if value else NOT_RECORDED
        nxt = node.get("next")
        log = node.get("log")
    else:
        return None
    if not isinstance(nxt, str):
        return None
    return {
        "kind": "step",
        "node_id": ev["node_id"],
        "node_type": node_type,
        "answer": answer,
        "answer_label": label,
        "value": value,
        "log": log if isinstance(log, str) else None,
        "next_node": nxt,
    }


def _ordered_step(step: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "kind",
        "event_id",
        "node_id",
        "node_type",
        "title",
        "answer",
        "answer_label",
        "value",
        "log",
        "next_node",
        "ts",
        "device_id",
        "user_id",
        "arrived_at",
        "duration_ms",
    )
    return {k: step[k] for k in keys}


def _pick(mapping: Any, answer: str) -> Any:
    """An answer's entry in a per-answer object; a plain value applies to every answer."""
    if isinstance(mapping, dict):
        return mapping.get(answer)
    return mapping


def _inputs_of(path: list[dict[str, Any]], nodes: dict[str, Any]) -> dict[str, Any]:
    """The input values committed by the effective path, later steps overriding earlier."""
    inputs: dict[str, Any] = {}
    for step in path:
        if step["node_type"] != "input":
            continue
        variable = nodes.get(step["node_id"], {}).get("variable")
        if isinstance(variable, str):
            inputs[variable] = step["value"]
    return inputs


def _resolution(
    nodes: dict[str, Any], current: str, inputs: dict[str, Any], client: dict[str, Any], texts: bool = True
) -> dict[str, Any] | None:
    node = nodes.get(current)
    if not isinstance(node, dict) or node.get("type") != "resolution":
        return None
    outcome = node.get("outcome") if isinstance(node.get("outcome"), str) else None
    if not texts:
        return {
            "node_id": current,
            "title": None,
            "outcome": outcome,
            "summary": None,
            "root_cause": None,
            "verification": None,
            "handover": None,
        }
    handover = node.get("handover")
    return {
        "node_id": current,
        "title": fill(node.get("title"), inputs, client),
        "outcome": outcome,
        "summary": fill(node.get("summary"), inputs, client),
        "root_cause": fill(node.get("root_cause"), inputs, client),
        "verification": fill(node.get("verification"), inputs, client),
        "handover": fill(handover, inputs, client) if isinstance(handover, str) else handover,
    }


def _edges(node: Any) -> list[str]:
    if not isinstance(node, dict):
        return []
    node_type = node.get("type")
    targets: list[Any] = []
    if node_type == "choice":
        options = _items(node.get("options"))
        targets = [o.get("next") for o in options if isinstance(o, dict)]
    elif node_type in ("question", "action", "input"):
        nxt = node.get("next")
        targets = list(nxt.values()) if isinstance(nxt, dict) else [nxt]
    return [t for t in targets if isinstance(t, str)]


# The last trees' distances (`_distances_to_resolution`), by the identity of their nodes
# dict: folds of one pinned version (the analytics rebuild folds thousands) share one search.
# The dict itself is kept with its answer, so an id is never taken for a newer object's.
_DISTANCES: dict[int, tuple[dict[str, Any], dict[str, int]]] = {}
_DISTANCES_KEPT = 64


def _distances_to_resolution(nodes: dict[str, Any]) -> dict[str, int]:
    known = _DISTANCES.get(id(nodes))
    if known is not None and known[0] is nodes:
        return known[1]
    dist = _search_distances(nodes)
    if len(_DISTANCES) >= _DISTANCES_KEPT:
        _DISTANCES.clear()  # one step, safe beside other threads' folds (a pop of the oldest is not)
    _DISTANCES[id(nodes)] = (nodes, dist)
    return dist


def _search_distances(nodes: dict[str, Any]) -> dict[str, int]:
    """Fewest answers from each node to any resolution: a breadth-first search backwards."""
    incoming: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        for target in _edges(node):
            incoming.setdefault(target, []).append(node_id)
    dist = {
        nid: 0 for nid, node in nodes.items() if isinstance(node, dict) and node.get("type") == "resolution"
    }
    frontier = list(dist)
    while frontier:
        following: list[str] = []
        for target in frontier:
            for source in incoming.get(target, []):
                if source not in dist:
                    dist[source] = dist[target] + 1
                    following.append(source)
        frontier = following
    return dist


def fill(text: Any, inputs: dict[str, Any], client: dict[str, Any]) -> Any:
    """Tree text with `{{input.x}}` / `{{client.x}}` filled, a missing value as a labelled
    gap (`gap_text`); non-strings give None. The rules are in the module docstring."""
    if not isinstance(text, str):
        return None
    out: list[str] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        out.append(_defuse(text[pos : match.start()]))
        # Only ASCII blanks are trimmed: Python's and JavaScript's ideas of whitespace differ.
        name = match.group(1).strip(" \t\r\n")
        value = _lookup(name, inputs, client)
        out.append(value if value is not None else gap_text(name))
        pos = match.end()
    out.append(_defuse(text[pos:]))
    return "".join(out)


def gap_text(name: str) -> str:
    """What a placeholder without a usable value reads as: its name and why it is empty."""
    parts = name.split(".")
    if len(parts) >= 2 and all(_NAME_PART.fullmatch(p) for p in parts):
        if parts[0] == "input" and len(parts) == 2:
            return f"<{parts[1]}: not entered>"
        if parts[0] == "client":
            return f"<{name}: not recorded>"
    return "<unknown placeholder>"


def _defuse(literal: str) -> str:
    while "{{" in literal:
        literal = literal.replace("{{", "{")
    return literal


def _lookup(name: str, inputs: dict[str, Any], client: dict[str, Any]) -> str | None:
    """The placeholder's value as text, or None when it has no usable value."""
    parts = name.split(".")
    if len(parts) < 2 or not all(_NAME_PART.fullmatch(p) for p in parts):
        return None
    if parts[0] == "input" and len(parts) == 2:
        value: Any = inputs.get(parts[1])
    elif parts[0] == "client":
        value = client
        for part in parts[1:]:
            value = value.get(part) if isinstance(value, dict) else None
    else:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return None
    number = _as_int(value)
    return str(number) if number is not None else None


def _as_int(value: Any) -> int | None:
    """An integral JSON number as int, else None (JavaScript cannot tell 5 from 5.0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) <= _MAX_SAFE else None
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_SAFE:
        return int(value)
    return None


def _ts(ev: dict[str, Any]) -> int:
    ts = _as_int(ev.get("ts"))
    return ts if ts is not None else 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _order_key(ev: dict[str, Any]) -> tuple[int, str, str]:
    return (_ts(ev), _str(ev.get("device_id")), _str(ev.get("_id")))
