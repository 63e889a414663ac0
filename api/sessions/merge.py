"""Merging conflicting revisions of a session header, field by field.

Two devices may edit the same header offline (one renames the session, the other adds the
ticket number); replication then leaves the document with conflicting leaves. Events never
conflict (they are written once), but the header does, and the server resolves it
(DOCUMENTS.md, "Header: session:{sid}"):

- For each editable field the value with the latest `edited[field]` time wins; on a tie
  the value of the higher revision id wins (CouchDB's order: generation, then hash).
- A marker that moved while its value did not change does not count: `edited_values[field]`
  (`{at, value}`) records the value a writer marked at `at`; when the field still holds that
  value but `edited[field]` is later, the field was only re-saved (a form that stamps every
  field it carries), and `at` is its real edit time. Without that record the marker is taken
  as it is.
- Every value that lost (differs from the winner's) goes to `history` as
  `{field, value, edited, rev}`, so nothing typed on a device is lost.
- Fields nobody edits (tree, version, created_at...) come from the highest revision, but
  for the ones only the server writes (`psa`): the newest value (by `checked_at`, else
  `pushed_at`) wins, as a
  device's revision made before the server wrote it simply lacks it.

`merge_headers` is pure and commutative: the order the revisions are given in does not
matter, and merging an already merged header with nothing else changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson

# The fields a person edits; `owner_id` too, since an owner may hand a session over.
EDITABLE = ("ticket", "client_id", "title", "shared_with", "status", "owner_id")
# Fields only the server writes (api/sessions/access.py SERVER_FIELDS).
SERVER_WRITTEN = ("psa",)


def rev_key(rev: Any) -> tuple[int, str]:
    """CouchDB's order of revision ids: the generation number, then the hash."""
    if not isinstance(rev, str) or "-" not in rev:
        return (0, "")
    gen, _, digest = rev.partition("-")
    try:
        return (int(gen), digest)
    except ValueError:
        return (0, digest)


def _time(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _marker(doc: dict[str, Any], field: str) -> int:
    edited = doc.get("edited")
    when = _time(edited.get(field)) if isinstance(edited, dict) else None
    return -1 if when is None else when  # never edited: any edit beats it


def _recorded(doc: dict[str, Any], field: str) -> dict[str, Any] | None:
    """The `{at, value}` record of `field`, when well formed."""
    records = doc.get("edited_values")
    record = records.get(field) if isinstance(records, dict) else None
    if isinstance(record, dict) and "value" in record and _time(record.get("at")) is not None:
        return record
    return None


def _edited_at(doc: dict[str, Any], field: str) -> int:
    """When `field` last really changed in this revision: its marker, unless the marker moved
    past the recorded edit while the value stayed the one recorded then."""
    marker = _marker(doc, field)
    record = _recorded(doc, field)
    at = _time(record.get("at")) if record is not None else None
    if (
        record is not None
        and at is not None
        and at < marker
        and _canon(record["value"]) == _canon(doc.get(field))
    ):
        return at
    return marker


def _canon(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _history_key(entry: Any) -> tuple[int, bytes, bytes, bytes]:
    if not isinstance(entry, dict):
        return (1, b"", _canon(entry), b"")
    edited = entry.get("edited") if isinstance(entry.get("edited"), int) else -1
    return (0, str(entry.get("field", "")).encode(), _canon(edited), _canon(entry))


def initial_marks(now: int, fields: dict[str, Any]) -> dict[str, Any]:
    """`edited` and `edited_values` of a new header whose `fields` are all set `now`."""
    return {
        "edited": {f: now for f in fields},
        "edited_values": {f: {"at": now, "value": v} for f, v in fields.items()},
    }


def apply_edit(header: dict[str, Any], changes: dict[str, Any], now: int) -> dict[str, Any] | None:
    """The header with `changes` applied, or None if no value changes. Only fields whose value
    differs move their `edited` marker (the PWA's `applyHeaderEdit` does the same)."""
    changed = {f: v for f, v in changes.items() if _canon(header.get(f)) != _canon(v)}
    if not changed:
        return None
    edited = dict(header.get("edited") or {}) if isinstance(header.get("edited"), dict) else {}
    records = header.get("edited_values")
    records = dict(records) if isinstance(records, dict) else {}
    doc = {**header, **changed}
    for field, value in changed.items():
        edited[field] = now
        records[field] = {"at": now, "value": value}
    doc.update(edited=edited, edited_values=records, updated_at=now)
    return doc


def merge_headers(revisions: list[dict[str, Any]]) -> dict[str, Any]:
    """The merged header body (without `_rev`) of conflicting header revisions.

    `revisions` are full documents, each with its `_rev`. The result keeps `_id`, carries
    every field's winning value and `edited` time, and a `history` holding the union of the
    revisions' histories plus every losing value, sorted so the result does not depend on
    the order of `revisions`.
    """
    docs = [d for d in revisions if isinstance(d, dict)]
    if not docs:
        raise ValueError("merge_headers needs at least one revision")
    # Sorting first makes every later choice independent of the order given.
    docs = sorted(docs, key=lambda d: (rev_key(d.get("_rev")), _canon(d)), reverse=True)
    base = docs[0]
    merged: dict[str, Any] = {k: v for k, v in base.items() if not k.startswith("_") or k == "_id"}
    history: dict[bytes, dict[str, Any]] = {}
    for doc in docs:
        for entry in doc.get("history") or []:
            if isinstance(entry, dict):
                history.setdefault(_canon(entry), entry)

    base_edited = _obj(base.get("edited"))
    edited: dict[str, Any] = {k: v for k, v in base_edited.items() if k not in EDITABLE}
    base_values = _obj(base.get("edited_values"))
    edited_values: dict[str, Any] = {k: v for k, v in base_values.items() if k not in EDITABLE}

    for field in EDITABLE:
        present = [d for d in docs if field in d]
        if not present:
            continue
        winner = max(
            present, key=lambda d: (_edited_at(d, field), rev_key(d.get("_rev")), _canon(d.get(field)))
        )
        merged[field] = winner[field]
        when = _edited_at(winner, field)
        if when >= 0:
            edited[field] = when
            edited_values[field] = {"at": when, "value": winner[field]}
        won = _canon(winner[field])
        for doc in present:
            if _canon(doc[field]) == won:
                continue
            entry = {
                "field": field,
                "value": doc[field],
                "edited": _edited_at(doc, field) if _edited_at(doc, field) >= 0 else None,
                "rev": doc.get("_rev"),
            }
            history.setdefault(_canon(entry), entry)

    for field in SERVER_WRITTEN:
        values = [d[field] for d in docs if isinstance(d.get(field), dict)]
        if values:
            merged[field] = max(
                values, key=lambda v: (str(v.get("checked_at") or v.get("pushed_at") or ""), _canon(v))
            )

    merged["edited"] = edited
    if edited_values:
        merged["edited_values"] = edited_values
    else:
        merged.pop("edited_values", None)
    merged["history"] = sorted(history.values(), key=_history_key)
    updated = [at for d in docs if (at := _time(d.get("updated_at"))) is not None]
    if updated:
        merged["updated_at"] = max(updated)
    return merged
