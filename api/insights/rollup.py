"""Analytics rollups: a pure, incremental fold of session documents into figures.

No I/O here. The feed follower (`service.py`) and the tests drive the same functions.

The unit of work is one session. A session's facts (`session_facts`) come from the session
fold itself (`api.sessions.fold.fold_session`), so analytics read a session exactly as the
runner and the exports do: events ordered by their own (`ts`, `device_id`, `_id`), late
answers that lost to another device ignored, `back` moving a step to "tried". When a
document of a session arrives (in any order, late, or a second time), `apply` refolds that
one session and moves its contribution: the old facts are subtracted from their bucket and
the new ones added. The cost of an event is therefore independent of how many sessions and
events the tenant has (O(1) in the tenant's history); it grows only with the length of its
own session, which an ordering-dependent fold cannot avoid once events may arrive late.
Seeing a document id twice replaces it with itself, so the result does not change.

Buckets are keyed by (tree_id, version, client_id, engineer, day the session started, UTC):
every filter the API offers is a selection of buckets, merged at query time. `contributions`
is the one statement of what a session adds to each counter; the derived index stores those
entries as rows (`service.py`), the in-memory `Rollup` as counters.

Durations and per-node times are kept as exact values (a multiset of milliseconds), not a
sketch: a late event can change a session that was already counted, so the aggregate must
support removal, which t-digest-like sketches cannot do exactly; exact multisets also make
p50/p90 agree to the millisecond between a rebuild and the incremental path. The cost is one
integer per completed session (and per answered step) per bucket, and equal values share one
counter entry.

Definitions (where DESIGN.md is silent)
    sessions     sessions started (with a header naming a tree and version).
    in_progress / completed / abandoned
                 the session's status now; `outcomes` counts completed sessions' outcomes.
    duration_ms  started_at to ended_at of completed sessions.
    visits       times a node became current: each answer given there (kept or later undone)
                 plus one if the session stands at that node now.
    answers      every answer given at the node, including ones later undone ("tried").
    median_ms    median time from arriving at a node to answering it, over those answers.
    back_steps   answers at the node that were undone later (tried, then revisited).
    custom_steps custom steps kept (not undone) at the node.
    drop_offs    sessions abandoned at the node, plus (at query time) sessions in progress
                 there whose latest counted event (answers, backs, custom steps, endings;
                 notes and attachments are not stored) is older than the tenant's idle
                 threshold.
    paths        for completed sessions: the nodes of the effective path plus the node the
                 session ended at; the most common ones per final node.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..sessions.fold import fold_session

DAY_MS = 86_400_000
# Event types that can change a figure; notes, drafts and attachments never do, so they are
# neither stored nor refolded.
_COUNTED = frozenset({"answered", "back", "custom_step", "completed", "abandoned", "reopened"})
_EVENT_FIELDS = ("_id", "type", "ts", "device_id", "user_id", "node_id", "answer", "outcome")

BucketKey = tuple[str, int, str, str, int]
TreeLookup = Callable[[str, int], "dict[str, Any] | None"]


def session_id_of(doc_id: str) -> str | None:
    """`session:{sid}` and `session:{sid}:ev:{ulid}` both belong to session `sid`."""
    if not doc_id.startswith("session:"):
        return None
    sid = doc_id.split(":", 2)[1]
    return sid or None


def is_header(doc_id: str) -> bool:
    return doc_id.startswith("session:") and doc_id.count(":") == 1


def trim_event(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The part of an event the figures depend on, or None when it cannot change a figure."""
    if doc.get("type") not in _COUNTED:
        return None
    trimmed = {k: doc[k] for k in _EVENT_FIELDS if k in doc}
    if isinstance(doc.get("text"), str):
        trimmed["text"] = ""  # the fold needs a custom step's text to be a string; its words count nowhere
    return trimmed


def trim_header(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("_id", "tree_id", "tree_version", "client_id", "owner_id", "created_at")}


def bucket_key(header: dict[str, Any], started_at: int | None) -> BucketKey | None:
    """Where a session's facts are counted; None when the header pins no tree version."""
    tree_id, version = header.get("tree_id"), header.get("tree_version")
    if not isinstance(tree_id, str) or not isinstance(version, int) or isinstance(version, bool):
        return None
    client, owner = header.get("client_id"), header.get("owner_id")
    client = client if isinstance(client, str) else ""
    owner = owner if isinstance(owner, str) else ""
    day = (started_at or 0) // DAY_MS
    return (tree_id, version, client, owner, day)


def session_facts(
    tree: dict[str, Any] | None, header: dict[str, Any], events: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """One session's contribution to the figures, or None when it counts nowhere (no header)."""
    state = fold_session(tree or {}, events, header, texts=False)
    key = bucket_key(header, state["started_at"])
    if key is None:
        return None
    nodes: dict[str, dict[str, Any]] = {}

    def node(node_id: str) -> dict[str, Any]:
        return nodes.setdefault(
            node_id, {"visits": 0, "answers": {}, "times": [], "back_steps": 0, "custom": 0, "abandoned": 0}
        )

    for step in [*state["path"], *(t for t in state["tried"] if t.get("kind") == "step")]:
        n = node(step["node_id"])
        n["visits"] += 1
        n["answers"][step["answer"]] = n["answers"].get(step["answer"], 0) + 1
        n["times"].append(step["duration_ms"])
    for tried in state["tried"]:
        if tried.get("kind") == "step":
            node(tried["node_id"])["back_steps"] += 1
    for custom in state["custom_steps"]:
        node(custom["node_id"])["custom"] += 1
    current = state["current_node"]
    status = state["status"]
    if current:
        node(current)["visits"] += 1
        if status == "abandoned":
            node(current)["abandoned"] += 1
    for n in nodes.values():
        n["times"].sort()
    completed = status == "completed"
    last_ts = max((e["ts"] for e in events if isinstance(e.get("ts"), int)), default=state["started_at"] or 0)
    return {
        "key": list(key),
        "status": status,
        "outcome": state["outcome"] if completed else None,
        "duration_ms": state["elapsed_ms"] if completed else None,
        "nodes": nodes,
        "path": [*(s["node_id"] for s in state["path"]), current] if completed and current else None,
        "idle": [current, last_ts] if status == "in_progress" else None,
    }


@dataclass
class Aggregate:
    """Figures of one bucket (or of several merged): counters only, so facts can be removed."""

    statuses: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    durations: Counter[int] = field(default_factory=Counter)
    visits: Counter[str] = field(default_factory=Counter)
    answers: Counter[tuple[str, str]] = field(default_factory=Counter)
    times: Counter[tuple[str, int]] = field(default_factory=Counter)
    back_steps: Counter[str] = field(default_factory=Counter)
    custom: Counter[str] = field(default_factory=Counter)
    abandoned_at: Counter[str] = field(default_factory=Counter)
    idle: Counter[tuple[str, int]] = field(default_factory=Counter)
    paths: Counter[tuple[str, ...]] = field(default_factory=Counter)

    def add(self, facts: dict[str, Any], sign: int = 1) -> None:
        """Count one session's facts (sign 1) or take them back out (sign -1)."""
        for (name, key), count in contributions(facts).items():
            _bump(getattr(self, name), key, sign * count)

    def add_row(self, name: str, key_json: str, count: int) -> None:
        """Count one stored entry (`encode_key`'s form), as the index keeps them."""
        key = orjson.loads(key_json)
        _bump(getattr(self, name), key if name in _SCALAR_KEYS else tuple(key), count)

    def merge(self, other: Aggregate) -> None:
        for name in COUNTERS:
            mine: Counter[Any] = getattr(self, name)
            mine.update(getattr(other, name))

    def is_empty(self) -> bool:
        return not self.statuses


COUNTERS = (
    "statuses",
    "outcomes",
    "durations",
    "visits",
    "answers",
    "times",
    "back_steps",
    "custom",
    "abandoned_at",
    "idle",
    "paths",
)
_SCALAR_KEYS = frozenset(
    {"statuses", "outcomes", "durations", "visits", "back_steps", "custom", "abandoned_at"}
)


def contributions(facts: dict[str, Any]) -> Counter[tuple[str, Any]]:
    """One session's facts as counter entries: (counter name, key) -> count. The one place that says
    what a session adds to each figure; the in-memory aggregate and the index's rows both use it."""
    out: Counter[tuple[str, Any]] = Counter()
    out["statuses", facts["status"]] += 1
    if facts["outcome"] is not None:
        out["outcomes", facts["outcome"]] += 1
    if facts["duration_ms"] is not None:
        out["durations", facts["duration_ms"]] += 1
    for node_id, n in facts["nodes"].items():
        out["visits", node_id] += n["visits"]
        for answer, count in n["answers"].items():
            out["answers", (node_id, answer)] += count
        for ms in n["times"]:
            out["times", (node_id, ms)] += 1
        out["back_steps", node_id] += n["back_steps"]
        out["custom", node_id] += n["custom"]
        out["abandoned_at", node_id] += n["abandoned"]
    if facts["idle"] is not None:
        out["idle", (facts["idle"][0], facts["idle"][1])] += 1
    if facts["path"] is not None:
        out["paths", tuple(facts["path"])] += 1
    return +out  # drops the zero counts


def encode_key(key: Any) -> str:
    """A counter key as the text the index stores (tuples as JSON arrays)."""
    return orjson.dumps(list(key) if isinstance(key, tuple) else key).decode()


def _bump(counter: Counter[Any], key: Any, by: int) -> None:
    """Add `by`, dropping entries that reach zero so equal figures have equal counters."""
    if by == 0:
        return
    value = counter[key] + by
    if value:
        counter[key] = value
    else:
        del counter[key]


def percentile(values: Counter[int], q: float) -> int | None:
    """The nearest-rank percentile of a multiset (None when empty): an observed value, no interpolation."""
    total = sum(values.values())
    if total == 0:
        return None
    rank = max(1, -(-int(q * total * 1000) // 1000))  # ceil(q * total) without float surprises
    seen = 0
    for value in sorted(values):
        seen += values[value]
        if seen >= rank:
            return value
    return max(values)


def figures(agg: Aggregate, *, now_ms: int, idle_ms: int, top_paths: int = 5) -> dict[str, Any]:
    """The analytics answer's figures (DESIGN.md v2) from a merged aggregate."""
    drop_offs: Counter[str] = Counter(agg.abandoned_at)
    for (node_id, last_ts), count in agg.idle.items():
        if now_ms - last_ts > idle_ms:
            drop_offs[node_id] += count
    node_ids = sorted(set(agg.visits) | set(drop_offs) | set(agg.custom))
    times: dict[str, Counter[int]] = {}
    for (node_id, ms), count in agg.times.items():
        times.setdefault(node_id, Counter())[ms] = count
    answers: dict[str, dict[str, int]] = {}
    for (node_id, answer), count in sorted(agg.answers.items()):
        answers.setdefault(node_id, {})[answer] = count
    nodes: dict[str, Any] = {}
    for node_id in node_ids:
        nodes[node_id] = {
            "visits": agg.visits[node_id],
            "answers": answers.get(node_id, {}),
            "drop_offs": drop_offs[node_id],
            "median_ms": percentile(times.get(node_id, Counter()), 0.5),
            "back_steps": agg.back_steps[node_id],
            "custom_steps": agg.custom[node_id],
        }
    by_end: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for path, count in agg.paths.items():
        by_end.setdefault(path[-1], []).append((path, count))
    paths: list[dict[str, Any]] = []
    for end in sorted(by_end):
        ranked = sorted(by_end[end], key=lambda pc: (-pc[1], pc[0]))[:top_paths]
        paths.extend({"resolution": end, "nodes": list(p), "count": c} for p, c in ranked)
    paths.sort(key=lambda p: (-p["count"], p["resolution"], p["nodes"]))
    return {
        "sessions": sum(agg.statuses.values()),
        "completed": agg.statuses["completed"],
        "abandoned": agg.statuses["abandoned"],
        "in_progress": agg.statuses["in_progress"],
        "outcomes": {o: agg.outcomes[o] for o in ("resolved", "escalated", "unresolved")},
        "duration_ms": {"p50": percentile(agg.durations, 0.5), "p90": percentile(agg.durations, 0.9)},
        "nodes": nodes,
        "paths": paths,
        "custom_steps": sorted(
            ({"node_id": n, "count": c} for n, c in agg.custom.items()),
            key=lambda x: (-int(x["count"]), str(x["node_id"])),
        ),
    }


@dataclass
class SessionRecord:
    header: dict[str, Any] | None = None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    facts: dict[str, Any] | None = None


@dataclass
class Rollup:
    """The whole incremental state: each session's documents and facts, and the buckets."""

    sessions: dict[str, SessionRecord] = field(default_factory=dict)
    buckets: dict[BucketKey, Aggregate] = field(default_factory=dict)


def refold(record: SessionRecord, trees: TreeLookup) -> dict[str, Any] | None:
    """A session's facts from the documents it holds now."""
    if record.header is None:
        return None
    header = record.header
    tree = None
    if isinstance(header.get("tree_id"), str) and isinstance(header.get("tree_version"), int):
        tree = trees(header["tree_id"], header["tree_version"])
    return session_facts(tree, header, list(record.events.values()))


def key_of(facts: dict[str, Any]) -> BucketKey:
    """The bucket key stored in facts (a JSON list) as the tuple buckets are keyed by."""
    tree_id, version, client, owner, day = facts["key"]
    return (str(tree_id), int(version), str(client), str(owner), int(day))


def move_facts(
    buckets: dict[BucketKey, Aggregate], old: dict[str, Any] | None, new: dict[str, Any] | None
) -> None:
    """Take a session's old facts out of their bucket and count its new ones."""
    if old == new:
        return
    if old is not None:
        key = key_of(old)
        agg = buckets[key]
        agg.add(old, -1)
        if agg.is_empty():
            del buckets[key]
    if new is not None:
        buckets.setdefault(key_of(new), Aggregate()).add(new)


def apply(state: Rollup, doc: dict[str, Any], trees: TreeLookup) -> Rollup:
    """Fold one document of the sessions database (a change, possibly late or repeated) into `state`.

    `doc` has `_id`; `_deleted` removes it. Returns `state` (updated in place: O(1) in the
    size of the state, which is the point of an incremental fold).
    """
    doc_id = doc.get("_id")
    sid = session_id_of(doc_id) if isinstance(doc_id, str) else None
    if sid is None or not isinstance(doc_id, str):
        return state
    record = state.sessions.setdefault(sid, SessionRecord())
    deleted = bool(doc.get("_deleted"))
    if is_header(doc_id):
        record.header = None if deleted else trim_header(doc)
    else:
        trimmed = None if deleted else trim_event(doc)
        if trimmed is None:
            if record.events.pop(doc_id, None) is None:
                if record.header is None and not record.events:
                    del state.sessions[sid]
                return state
        else:
            record.events[doc_id] = trimmed
    new = refold(record, trees)
    move_facts(state.buckets, record.facts, new)
    record.facts = new
    if record.header is None and not record.events:
        del state.sessions[sid]
    return state


def rebuild(docs: list[dict[str, Any]], trees: TreeLookup) -> Rollup:
    """The state from scratch: every session folded once from all its documents."""
    grouped: dict[str, SessionRecord] = {}
    for doc in docs:
        doc_id = doc.get("_id")
        sid = session_id_of(doc_id) if isinstance(doc_id, str) else None
        if sid is None or doc.get("_deleted") or not isinstance(doc_id, str):
            continue
        record = grouped.setdefault(sid, SessionRecord())
        if is_header(doc_id):
            record.header = trim_header(doc)
        elif (trimmed := trim_event(doc)) is not None:
            record.events[doc_id] = trimmed
    state = Rollup()
    for sid, record in grouped.items():
        record.facts = refold(record, trees)
        if record.facts is not None:
            state.buckets.setdefault(key_of(record.facts), Aggregate()).add(record.facts)
        state.sessions[sid] = record
    return state


def select(
    buckets: dict[BucketKey, Aggregate],
    *,
    tree_id: str | None = None,
    version: int | None = None,
    client_id: str | None = None,
    engineer: str | None = None,
    from_day: int | None = None,
    to_day: int | None = None,
) -> Aggregate:
    """The merged aggregate of the buckets matching every given filter."""
    out = Aggregate()
    for (t, v, c, e, d), agg in buckets.items():
        if (
            (tree_id is None or t == tree_id)
            and (version is None or v == version)
            and (client_id is None or c == client_id)
            and (engineer is None or e == engineer)
            and (from_day is None or d >= from_day)
            and (to_day is None or d <= to_day)
        ):
            out.merge(agg)
    return out
