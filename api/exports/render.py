"""The export view model: a session bundle turned into final, display-ready text.

`build_export_model` is pure: everything a renderer needs is decided here (which steps to
show and in what order, every sentence filled, times and durations formatted), so the
renderers only lay text out. `pwa/src/shared/export.ts` builds the same model in TypeScript;
the Markdown and text exports of both are checked byte for byte against the hand-checked
fixtures in `tests/golden/exports/`. Change one, change the other in the same commit.

Decisions (where the issue is silent)
    Order       Path steps in order. A custom step sits after the path step it followed
                (`after_step`); an undone path step ("tried, then revisited") sits just
                before the step that now holds its position, and so does an undone custom
                step whose path step was undone after it; entries sharing a place are
                ordered by time, then event id.
    Sentences   A step reads as its answer's `log` sentence (filled by the fold); without
                one, "<title>: <answer>" ("<title> <answer>" after a title ending in ?, : or
                .). An input step whose value does not appear in the sentence also shows
                "Entered: <value>". Sentences are one line: newlines become spaces.
    Outcome     The resolution's title, less a leading "Resolved:" / "Escalated:" that
                would repeat the outcome; for an escalation, the hand-over.
    Warning     A step whose node has a `warning` shows it ("Warning shown: ..."), filled like
                the sentence, right after the sentence: the engineer saw it before answering.
    Commands    For an action answered done or failed, the node's `commands`, filled with
                the inputs committed up to that step (a skipped action ran nothing), exactly
                as the runner's Copy button copies them.
    Notes       A node's notes go under its last step on the path; a node only tried, under
                its last tried entry; the node the session stands on, under the outcome;
                any other node, under "Other notes". Empty notes are left out.
    Attachments Placed like notes.
    Times       UTC, "YYYY-MM-DD HH:MM UTC" in the header; a step shows "HH:MM", or
                "YYYY-MM-DD HH:MM" when it falls on another day than the start.
    Durations   Rounded to the minute: "45 s" -> "1 min", "1 h 05 min"; under 30 s, "under 1 min".
"""

from __future__ import annotations

import re
import time
from typing import Any

from api.sessions.fold import (
    fill as fill_text,  # the one filler of tree text, shared with the fold
    fold_session,
)

MODEL_VERSION = 1

DEFAULT_OPTIONS: dict[str, bool] = {"notes": True, "timestamps": True, "undone": True, "attachments": True}

OUTCOME_LABELS = {"resolved": "Resolved", "escalated": "Escalated", "unresolved": "Unresolved"}
STATUS_LABELS = {"in_progress": "In progress", "abandoned": "Abandoned"}

_NEWLINES = re.compile(r"[ \t\r\n]*[\r\n][ \t\r\n]*")
_EDGE_BLANKS = re.compile(r"^[ \t\r\n]+|[ \t\r\n]+$")
_BLANK = re.compile(r"^[ \t\r\n]*$")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LANGUAGE = re.compile(r"^[A-Za-z0-9_+-]{1,30}$")
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def build_export_model(
    bundle: dict[str, Any],
    options: dict[str, Any] | None = None,
    tenant: Any = None,
    engineer_names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The fully resolved view model of a session for every export format.

    `bundle` is `{"header", "events", "tree", "tree_version", "client", "state"}` (the state is
    folded from the events when absent, with `bundle["now_ms"]` as the clock); `options` turns
    notes, timestamps, undone steps and attachments on or off; `tenant` is the tenant's name
    (or its document); `engineer_names` maps user ids to display names.
    """
    opts = {**DEFAULT_OPTIONS, **{k: bool(v) for k, v in (options or {}).items() if k in DEFAULT_OPTIONS}}
    names = engineer_names or {}
    header = _obj(bundle.get("header"))
    client = _obj(bundle.get("client"))
    tree = _obj(bundle.get("tree"))
    if "nodes" not in tree and isinstance(tree.get("tree"), dict):
        tree = tree["tree"]  # a `treever:` document rather than the tree itself
    nodes = _obj(tree.get("nodes"))
    state = bundle.get("state")
    if not isinstance(state, dict):
        events = _list(bundle.get("events"))
        state = fold_session(tree, events, header, client, bundle.get("now_ms"))

    started = state.get("started_at")
    start_day = _day(started)
    path = state.get("path") or []
    inputs: dict[str, Any] = {}
    placed: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    path_index_of: dict[str, int] = {}  # node id -> index in `placed` of its last path step
    tried_index_of: dict[str, int] = {}  # node id -> index in `placed` of its last tried entry

    for i, step in enumerate(path):
        node = _obj(nodes.get(step.get("node_id")))
        if step.get("node_type") == "input" and isinstance(node.get("variable"), str):
            inputs[node["variable"]] = step.get("value")
        entry = _step_entry(step, node, inputs, client, opts, start_day, tried=False)
        placed.append(((i, 0, _num(step.get("ts")), _text(step.get("event_id"))), entry))
        path_index_of[_text(step.get("node_id"))] = len(placed) - 1

    for custom in state.get("custom_steps") or []:
        entry = _custom_entry(custom, opts, start_day, tried=False)
        placed.append(
            (
                (_num(custom.get("after_step")), 1, _num(custom.get("ts")), _text(custom.get("event_id"))),
                entry,
            )
        )

    if opts["undone"]:
        tried_steps = [t for t in state.get("tried") or [] if t.get("kind") != "custom"]
        for undone in state.get("tried") or []:
            if undone.get("kind") == "custom":
                entry = _custom_entry(undone, opts, start_day, tried=True)
                anchor = _custom_anchor(undone, tried_steps)
            else:
                node = _obj(nodes.get(undone.get("node_id")))
                entry = _step_entry(undone, node, inputs, client, opts, start_day, tried=True)
                anchor = _num(undone.get("position")) - 1
                tried_index_of[_text(undone.get("node_id"))] = len(placed)
            placed.append(((anchor, 1, _num(undone.get("ts")), _text(undone.get("event_id"))), entry))

    # Notes are attached to entries, not to places in `placed`, which sorting changes.
    path_owner = {nid: placed[i][1] for nid, i in path_index_of.items()}
    tried_owner = {nid: placed[i][1] for nid, i in tried_index_of.items()}
    placed.sort(key=lambda item: item[0])
    entries = [entry for _, entry in placed]
    for number, entry in enumerate(entries, start=1):
        entry["number"] = number

    resolution = state.get("resolution") if isinstance(state.get("resolution"), dict) else None
    status = _text(state.get("status"))
    if status not in ("in_progress", "completed", "abandoned"):
        status = "in_progress"
    outcome_key = state.get("outcome") if state.get("outcome") in OUTCOME_LABELS else None
    label = (
        OUTCOME_LABELS[outcome_key]
        if status == "completed" and outcome_key
        else ("Unresolved" if status == "completed" else STATUS_LABELS[status])
    )
    current = _text(state.get("current_node"))
    current_title = None
    if status != "completed":
        current_title = (
            _one_line(fill_text(_obj(nodes.get(current)).get("title"), inputs, client)) or "(untitled step)"
        )

    outcome: dict[str, Any] = {
        "status": status,
        "outcome": outcome_key if status == "completed" else None,
        "label": label,
        "title": _outcome_title(resolution.get("title"), label)
        if resolution and status == "completed"
        else None,
        "reason": _abandon_reason(state) if status == "abandoned" else None,
        "current_step": current_title,
        "handover": None,
        "notes": [],
        "attachments": [],
        "script_runs": [],
    }
    if resolution and outcome_key == "escalated" and isinstance(resolution.get("handover"), str):
        outcome["handover"] = _block(resolution["handover"]) or None

    # Notes and attachments, each under the entry its node belongs to.
    other: dict[str, dict[str, Any]] = {}

    def holder(node_id: str, first_ts: int) -> dict[str, Any]:
        if node_id in path_owner:
            return path_owner[node_id]
        if node_id in tried_owner:
            return tried_owner[node_id]
        if node_id == current:
            return outcome
        if node_id not in other:
            title = fill_text(_obj(nodes.get(node_id)).get("title"), inputs, client)
            other[node_id] = {
                "title": _one_line(title) or "(a step not in this tree)",
                "notes": [],
                "attachments": [],
                "script_runs": [],
                "_key": (first_ts, node_id),
            }
        return other[node_id]

    if opts["notes"]:
        for node_id, notes in _ordered_map(state.get("notes"), path):
            for note in notes:
                text = note.get("text")
                if isinstance(text, str) and not _BLANK.match(text):
                    holder(node_id, _num(note.get("ts")))["notes"].append(_block(text))
    if opts["attachments"]:
        for node_id, items in _ordered_map(state.get("attachments"), path):
            for att in items:
                holder(node_id, _num(att.get("ts")))["attachments"].append(_attachment(att, opts, start_day))
    # Script runs are evidence of work done: shown whatever the options say.
    for node_id, runs in _ordered_map(state.get("script_runs"), path):
        for run in runs:
            holder(node_id, _num(run.get("ts")))["script_runs"].append(_script_run(run, opts, start_day))
    other_sections = sorted(other.values(), key=lambda o: o["_key"])
    for section in other_sections:
        del section["_key"]

    summary = (
        state.get("summary") if status == "completed" and isinstance(state.get("summary"), str) else None
    )
    engineers = _engineers(header, state, names)
    tree_title = _one_line(tree.get("title")) or "Untitled tree"
    version = bundle.get("tree_version")
    if isinstance(version, dict):  # the `treever:` document the session pinned
        version = version.get("version")
    if version is None:
        version = header.get("tree_version", header.get("version"))
    version = version if isinstance(version, int) and not isinstance(version, bool) else None
    ticket = _one_line(header.get("ticket")) or None
    client_name = _one_line(client.get("name")) or None
    session_title = _one_line(header.get("title")) or tree_title
    ended = state.get("ended_at")
    elapsed = state.get("elapsed_ms")

    details = []
    for key, value in (
        ("Ticket", ticket),
        ("Client", client_name),
        ("Engineers" if len(engineers) > 1 else "Engineer", ", ".join(engineers) or None),
        ("Tree", f"{tree_title} (version {version})" if version is not None else tree_title),
        ("Started", _datetime(started)),
        ("Ended", _datetime(ended)),
        ("Duration", _duration(elapsed)),
    ):
        if value is not None:
            details.append({"label": key, "value": value})

    tree_slug = _text(tree.get("_id") or header.get("tree_id"))
    tree_slug = re.sub(r"^(tree|treever):", "", tree_slug).split(":")[0] or "session"
    return {
        "schema_version": MODEL_VERSION,
        "title": f"{ticket}: {session_title}" if ticket else session_title,
        "tenant": _tenant_name(tenant),
        "session_id": state.get("session_id"),
        "ticket": ticket,
        "client": client_name,
        "engineers": engineers,
        "tree": {"id": tree_slug, "title": tree_title, "version": version},
        "summary": {
            "outcome": label,
            "root_cause": _one_line(resolution.get("root_cause")) or None if resolution else None,
            "verification": _one_line(resolution.get("verification")) or None if resolution else None,
            "fix_label": "Fix" if outcome["outcome"] == "resolved" else "Summary",
            "fix": _one_line(summary) or None,
        },
        "details": details,
        "steps": entries,
        "other_notes": other_sections,
        "outcome": outcome,
        "options": opts,
        "times": {
            "started_ms": started,
            "ended_ms": ended,
            "elapsed_ms": elapsed,
            "started": _iso(started),
            "ended": _iso(ended),
            "hours": _hours(elapsed),
        },
        "filename": _filename(ticket, tree_slug, started, state.get("session_id")),
    }


# --- entries -------------------------------------------------------------------------------


def _step_entry(
    step: dict[str, Any],
    node: dict[str, Any],
    inputs: dict[str, Any],
    client: dict[str, Any],
    opts: dict[str, Any],
    start_day: str | None,
    *,
    tried: bool,
) -> dict[str, Any]:
    title = _one_line(step.get("title")) or "(untitled step)"
    sentence = _one_line(step.get("log"))
    if not sentence:
        separator = " " if title[-1:] in ("?", ":", ".") else ": "
        sentence = f"{title}{separator}{_one_line(step.get('answer_label'))}"
    value = step.get("value")
    shown_value = None
    if (
        step.get("node_type") == "input"
        and isinstance(value, str)
        and value
        and _one_line(value) not in sentence
    ):
        shown_value = _one_line(value)
    warning = _one_line(fill_text(node.get("warning"), inputs, client)) or None
    commands = []
    if not tried and step.get("node_type") == "action" and step.get("answer") in ("done", "failed"):
        for cmd in node.get("commands") or []:
            if isinstance(cmd, dict) and isinstance(cmd.get("text"), str) and not _BLANK.match(cmd["text"]):
                language = _text(cmd.get("language"))
                commands.append(
                    {
                        "language": language if _LANGUAGE.match(language) else "",
                        "text": _block(fill_text(cmd["text"], inputs, client)),
                    }
                )
    return {
        "number": 0,
        "kind": "step",
        "node_type": step.get("node_type"),
        "tried": tried,
        "status": None,
        "marker": "Tried, then revisited" if tried else None,
        "time": _step_time(step.get("ts"), start_day) if opts["timestamps"] else None,
        "sentence": sentence,
        "warning": warning,
        "value": shown_value,
        "commands": commands,
        "notes": [],
        "attachments": [],
        "script_runs": [],
    }


def _custom_anchor(custom: dict[str, Any], tried_steps: list[dict[str, Any]]) -> int:
    """Where an undone custom step goes: after the path step it followed, unless that step
    was itself undone later on, in which case before the step that replaced it."""
    anchor = _num(custom.get("after_step"))
    for step in tried_steps:
        position = _num(step.get("position"))
        if position <= anchor and _num(step.get("undone_at")) >= _num(custom.get("ts")):
            anchor = position - 1
    return anchor


def _custom_entry(
    custom: dict[str, Any], opts: dict[str, Any], start_day: str | None, *, tried: bool
) -> dict[str, Any]:
    note = custom.get("note")
    status = _one_line(custom.get("answer_label")) or "Done"
    return {
        "number": 0,
        "kind": "custom",
        "node_type": None,
        "tried": tried,
        "status": status,
        "marker": (
            f"Tried, then revisited (custom step, {status.lower()})"
            if tried
            else f"Custom step ({status.lower()})"
        ),
        "time": _step_time(custom.get("ts"), start_day) if opts["timestamps"] else None,
        "sentence": _one_line(custom.get("text")) or "(no description)",
        "warning": None,
        "value": None,
        "commands": [],
        "notes": [_block(note)] if opts["notes"] and isinstance(note, str) and not _BLANK.match(note) else [],
        "attachments": [],
        "script_runs": [],
    }


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _attachment(att: dict[str, Any], opts: dict[str, Any], start_day: str | None) -> dict[str, Any]:
    content_type = att.get("content_type") if isinstance(att.get("content_type"), str) else None
    size = att.get("size")
    # Evidence: when the file was attached and its checksum, so a reviewer can match the file
    # in the ticket to the one stored (the time follows the timestamps option).
    evidence = []
    added = _step_time(att.get("ts"), start_day) if opts["timestamps"] else None
    if added:
        evidence.append(f"added {added}")
    sha = att.get("sha256")
    if isinstance(sha, str) and _SHA256.match(sha):
        evidence.append(f"SHA-256 {sha}")
    return {
        "evidence": "; ".join(evidence) or None,
        "id": _text(att.get("attachment_id")),
        "name": _one_line(att.get("name")) or "(unnamed file)",
        "content_type": content_type,
        "size": _size(size) if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        "caption": _one_line(att.get("caption")) or None,
        "is_image": content_type in _IMAGE_TYPES,
    }


RUN_STATUS_LABELS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "timed_out": "timed out",
    "in_doubt": "outcome unknown, check the RMM",
}
RMM_NAMES = {"ninjaone": "NinjaOne", "datto": "Datto RMM"}
_TRAILING_BLANKS = re.compile(r"[ \t\n]+$")


def _script_run(run: dict[str, Any], opts: dict[str, Any], start_day: str | None) -> dict[str, Any]:
    """One line saying what ran where and how it ended, and the output excerpt the RMM gave.
    `pwa/src/shared/export.ts` builds the same."""
    target = _obj(run.get("target"))
    device = _one_line(target.get("device_name")) or _one_line(target.get("device_id")) or "(unknown device)"
    system = RMM_NAMES.get(_text(target.get("system")))
    status = RUN_STATUS_LABELS.get(_text(run.get("status")), "status not recorded")
    code = run.get("exit_code")
    name = _one_line(run.get("script_name")) or _one_line(run.get("script_id")) or "(unnamed script)"
    line = f"{name} on {device}"
    line += f" via {system}" if system else ""
    line += f": {status}"
    if isinstance(code, int) and not isinstance(code, bool):
        line += f", exit code {code}"
    output = run.get("output")
    output = (
        _TRAILING_BLANKS.sub("", output.replace("\r\n", "\n").replace("\r", "\n"))
        if isinstance(output, str)
        else ""
    )
    ran = _step_time(run.get("ts"), start_day) if opts["timestamps"] else None
    return {"line": line, "time": ran, "output": output or None}


def _ordered_map(mapping: Any, path: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """A node-keyed map in a stable order: by its entries' first time, then node id."""
    if not isinstance(mapping, dict):
        return []
    rows = [(k, [x for x in v if isinstance(x, dict)]) for k, v in mapping.items() if isinstance(v, list)]
    rows.sort(key=lambda kv: (min((_num(x.get("ts")) for x in kv[1]), default=0), kv[0]))
    return rows


def _engineers(header: dict[str, Any], state: dict[str, Any], names: dict[str, str]) -> list[str]:
    """Display names of the owner, then of everyone else who recorded work, in order of time."""
    ids: list[str] = []
    owner = header.get("owner_id")
    if isinstance(owner, str):
        ids.append(owner)
    work = [*(state.get("path") or []), *(state.get("custom_steps") or [])]
    for notes in (state.get("notes") or {}).values():
        work.extend(n for n in notes if isinstance(n, dict))
    work.sort(key=lambda w: (_num(w.get("ts")), _text(w.get("user_id"))))
    ids.extend(_text(w.get("user_id")) for w in work)
    out: list[str] = []
    for uid in ids:
        name = names.get(uid)
        if isinstance(name, str) and _one_line(name) and _one_line(name) not in out:
            out.append(_one_line(name))
    return out


def _outcome_title(title: Any, label: str) -> str | None:
    """The resolution's title, without a leading "Resolved:" that repeats the outcome."""
    title = _one_line(title)
    if title[: len(label) + 1].lower() == label.lower() + ":":
        title = _EDGE_BLANKS.sub("", title[len(label) + 1 :])
    return title or None


def _abandon_reason(state: dict[str, Any]) -> str | None:
    for item in reversed(state.get("history") or []):
        if isinstance(item, dict) and item.get("type") == "abandoned":
            return _one_line(item.get("reason")) or None
    return None


# --- small formatting helpers, mirrored one for one in export.ts ----------------------------


def _one_line(value: Any) -> str:
    """User or tree text for a single-line slot: newlines become one space, ends trimmed."""
    if not isinstance(value, str):
        return ""
    if "\n" not in value and "\r" not in value:
        return value.strip(" \t")  # the common case, without the regular expressions
    return _EDGE_BLANKS.sub("", _NEWLINES.sub(" ", value))


def _block(value: Any) -> str:
    """Multi-line text: line ends normalised to \\n, trailing blanks and blank edges trimmed,
    runs of blank lines made one."""
    if not isinstance(value, str):
        return ""
    lines = [line.rstrip(" \t") for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    # Runs of blank lines become one, so a layout's blank lines always mean "next block".
    kept = [line for i, line in enumerate(lines) if line or (i > 0 and lines[i - 1])]
    return "\n".join(kept)


def _iso(ms: Any) -> str | None:
    if not isinstance(ms, int) or isinstance(ms, bool):
        return None
    t = time.gmtime(ms // 1000)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}Z"


def _datetime(ms: Any) -> str | None:
    iso = _iso(ms)
    return f"{iso[:10]} {iso[11:16]} UTC" if iso else None


def _day(ms: Any) -> str | None:
    iso = _iso(ms)
    return iso[:10] if iso else None


def _step_time(ms: Any, start_day: str | None) -> str | None:
    iso = _iso(ms)
    if iso is None:
        return None
    return iso[11:16] if iso[:10] == start_day else f"{iso[:10]} {iso[11:16]}"


def _duration(ms: Any) -> str | None:
    if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
        return None
    minutes = (ms + 30_000) // 60_000
    if minutes == 0:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _hours(ms: Any) -> float:
    """Decimal hours to two places, rounded half up, for a PSA time entry."""
    if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
        return 0.0
    return ((ms * 100 + 1_800_000) // 3_600_000) / 100


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        tenths = (size * 20 + 1024) // 2048
        return f"{tenths // 10}.{tenths % 10} KB"
    tenths = (size * 20 + 1024 * 1024) // (2 * 1024 * 1024)
    return f"{tenths // 10}.{tenths % 10} MB"


def _filename(ticket: str | None, tree_slug: str, started: Any, session_id: Any) -> str:
    first = ticket or (f"session-{session_id}" if isinstance(session_id, str) and session_id else "session")
    parts = [
        _FILENAME_UNSAFE.sub("-", p).strip("-.") or "x"
        for p in (first, tree_slug, _day(started) or "undated")
    ]
    return "-".join(parts)


def _tenant_name(tenant: Any) -> str | None:
    if isinstance(tenant, dict):
        tenant = tenant.get("name")
    return _one_line(tenant) or None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _num(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
