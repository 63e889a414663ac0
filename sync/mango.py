"""Mango selectors (the subset `_changes?filter=_selector` and `_find` need): pure matching.

`compile_selector(selector)` validates once and returns a predicate, so a `_changes` feed
that tests thousands of documents parses the selector a single time and a malformed one is
refused with `BadRequest` even when nothing would be tested.

Semantics follow CouchDB's Mango: keys of an object are ANDed; a non-object value means
`$eq`; an object of field names nests (`{"a": {"b": 1}}` is `a.b == 1`); dotted names reach
into objects (`\\.` escapes a literal dot, a numeric segment indexes an array); every
operator except `$exists: false` needs the field to be present; ordering operators compare
across types in CouchDB's collation order (null < false < true < numbers < strings <
arrays < objects). Strings compare by code point, where CouchDB uses ICU collation: the
two differ only for mixed-case and accented strings under `$gt`/`$lt`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .errors import BadRequest

Predicate = Callable[[Any], bool]

_COMBINATORS = ("$and", "$or", "$nor")
_TYPES = {"null", "boolean", "number", "string", "array", "object"}
_MISSING = object()


def matches(selector: dict[str, Any], doc: Any) -> bool:
    """Does `doc` match `selector`? (Compiles each call; use `compile_selector` in loops.)"""
    return compile_selector(selector)(doc)


def compile_selector(selector: Any) -> Predicate:
    """Validate `selector` and return a predicate over documents; raise `BadRequest`."""
    if not isinstance(selector, dict):
        raise BadRequest(
            f"Selector must be a JSON object, not: {_json(selector)}", error="invalid_selector_json"
        )
    return _compile_object(selector, None)


# Errors carry CouchDB's Mango error names and reason texts (mango_error), which clients
# and people searching for them recognise; CouchDB prints the argument as an Erlang term,
# here it is JSON.
def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _bad_arg(op: str, arg: Any) -> BadRequest:
    return BadRequest(f"Bad argument for operator {op}: {_json(arg)}", error="bad_arg")


def _type_rank(value: Any) -> int:
    if value is None:
        return 0
    if value is False:
        return 1
    if value is True:
        return 2
    if isinstance(value, (int, float)):
        return 3
    if isinstance(value, str):
        return 4
    if isinstance(value, list):
        return 5
    return 6


def collate(a: Any, b: Any) -> int:
    """CouchDB-style three-way comparison of two JSON values (-1, 0, 1)."""
    ra, rb = _type_rank(a), _type_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (3, 4):
        return int(a > b) - int(a < b)
    if ra == 5:
        for x, y in zip(a, b, strict=False):
            c = collate(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == 6:
        # Key order carries no meaning in JSON; comparing sorted members keeps `collate`
        # consistent with `$eq`, which ignores it.
        for (ka, va), (kb, vb) in zip(sorted(a.items()), sorted(b.items()), strict=False):
            c = collate(ka, kb) or collate(va, vb)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    return 0


def _equal(a: Any, b: Any) -> bool:
    ra, rb = _type_rank(a), _type_rank(b)
    if ra != rb:
        return False
    if ra == 5:
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if ra == 6:
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def split_field(name: str) -> tuple[str, ...]:
    """`"a.b\\.c"` -> `("a", "b.c")`."""
    parts, cur, i = [], [], 0
    while i < len(name):
        ch = name[i]
        if ch == "\\" and i + 1 < len(name) and name[i + 1] == ".":
            cur.append(".")
            i += 2
            continue
        if ch == ".":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return tuple(parts)


def _lookup(doc: Any, path: tuple[str, ...]) -> Any:
    cur = doc
    for seg in path:
        if isinstance(cur, dict):
            if seg not in cur:
                return _MISSING
            cur = cur[seg]
        elif isinstance(cur, list) and seg.isdigit() and int(seg) < len(cur):
            cur = cur[int(seg)]
        else:
            return _MISSING
    return cur


def _compile_object(sel: dict[str, Any], path: tuple[str, ...] | None) -> Predicate:
    preds = [_compile_member(key, value, path) for key, value in sel.items()]
    if len(preds) == 1:
        return preds[0]
    return lambda doc: all(p(doc) for p in preds)


def _sub_selectors(op: str, value: Any, path: tuple[str, ...] | None) -> list[Predicate]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _bad_arg(op, value)
    return [_compile_object(v, path) for v in value]


def _compile_member(key: str, value: Any, path: tuple[str, ...] | None) -> Predicate:
    if key in _COMBINATORS:
        subs = _sub_selectors(key, value, path)
        if key == "$and":
            return lambda doc: all(p(doc) for p in subs)
        if key == "$or":
            return lambda doc: any(p(doc) for p in subs)
        return lambda doc: not any(p(doc) for p in subs)
    if key == "$not":
        if not isinstance(value, dict):
            raise _bad_arg(key, value)
        inner = _compile_object(value, path)
        return lambda doc: not inner(doc)
    if key.startswith("$"):
        if path is None:
            raise BadRequest("One or more conditions is missing a field name.", error="invalid_selector")
        return _compile_operator(key, value, path)
    sub = split_field(key) if path is None else path + split_field(key)
    if isinstance(value, dict) and value:
        return _compile_object(value, sub)
    return _compile_operator("$eq", value, sub)


def _compile_operator(op: str, arg: Any, path: tuple[str, ...]) -> Predicate:
    if op == "$exists":
        # The one operator that can match a missing field.
        if not isinstance(arg, bool):
            raise _bad_arg(op, arg)
        return lambda doc: (_lookup(doc, path) is not _MISSING) == arg
    test = _operator_test(op, arg)

    def pred(doc: Any) -> bool:
        value = _lookup(doc, path)
        return value is not _MISSING and test(value)

    return pred


def _operator_test(op: str, arg: Any) -> Callable[[Any], bool]:
    if op == "$eq":
        return lambda v: _equal(v, arg)
    if op == "$ne":
        return lambda v: not _equal(v, arg)
    if op == "$gt":
        return lambda v: collate(v, arg) > 0
    if op == "$gte":
        return lambda v: collate(v, arg) >= 0
    if op == "$lt":
        return lambda v: collate(v, arg) < 0
    if op == "$lte":
        return lambda v: collate(v, arg) <= 0
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise _bad_arg(op, arg)

        def in_list(v: Any) -> bool:
            # Like CouchDB: an array field matches when any of its elements is listed.
            values = v if isinstance(v, list) else [v]
            return any(_equal(x, a) for x in values for a in arg)

        return in_list if op == "$in" else (lambda v: not in_list(v))
    if op == "$regex":
        if not isinstance(arg, str):
            raise _bad_arg(op, arg)
        try:
            rx = re.compile(arg)
        except re.error:
            raise _bad_arg(op, arg) from None
        return lambda v: isinstance(v, str) and rx.search(v) is not None
    if op == "$type":
        if arg not in _TYPES:
            raise _bad_arg(op, arg)
        names = {0: "null", 1: "boolean", 2: "boolean", 3: "number", 4: "string", 5: "array", 6: "object"}
        return lambda v: names[_type_rank(v)] == arg
    if op == "$size":
        if not isinstance(arg, int) or isinstance(arg, bool):
            raise _bad_arg(op, arg)
        return lambda v: isinstance(v, list) and len(v) == arg
    if op == "$all":
        if not isinstance(arg, list):
            raise _bad_arg(op, arg)
        return lambda v: isinstance(v, list) and all(any(_equal(x, a) for x in v) for a in arg)
    if op in ("$elemMatch", "$allMatch"):
        if not isinstance(arg, dict):
            raise _bad_arg(op, arg)
        inner = _compile_object(arg, ())
        if op == "$elemMatch":
            return lambda v: isinstance(v, list) and any(inner(x) for x in v)
        return lambda v: isinstance(v, list) and bool(v) and all(inner(x) for x in v)
    if op == "$mod":
        if (
            not isinstance(arg, list)
            or len(arg) != 2
            or not all(isinstance(a, int) and not isinstance(a, bool) for a in arg)
            or arg[0] == 0
        ):
            raise _bad_arg(op, arg)
        return lambda v: isinstance(v, int) and not isinstance(v, bool) and v % arg[0] == arg[1]
    raise BadRequest(f"Invalid operator: {op}", error="invalid_operator")
