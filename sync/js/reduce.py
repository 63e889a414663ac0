"""CouchDB's built-in reduce functions (`_count`, `_sum`, `_stats`), as pure functions.

Reductions are computed when a view is queried, from the rows in range: the index keeps
the mapped rows only (see views.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import BranchlineError

BUILTINS = ("_count", "_sum", "_stats")


class ReduceError(BranchlineError):
    status, error = 500, "builtin_reduce_error"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _describe(v: Any) -> str:
    return orjson.dumps(v).decode()[:200]


def reduce_count(values: list[Any]) -> int:
    return len(values)


def reduce_sum(values: list[Any]) -> Any:
    """Numbers add up; arrays of numbers add up position by position (a shorter array
    counts as zeros past its end), as CouchDB's `_sum` does."""
    total: Any = 0
    for v in values:
        if _is_number(v) or (isinstance(v, list) and all(_is_number(x) for x in v)):
            total = _add(total, v)
        else:
            raise ReduceError(
                "the _sum function requires that map values be numbers or arrays of "
                f"numbers, not '{_describe(v)}'; emit numbers, or use _count."
            )
    return total


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, list) or isinstance(b, list):
        la = a if isinstance(a, list) else [a]
        lb = b if isinstance(b, list) else [b]
        n = max(len(la), len(lb))
        return [(la[i] if i < len(la) else 0) + (lb[i] if i < len(lb) else 0) for i in range(n)]
    return a + b


def reduce_stats(values: list[Any]) -> Any:
    """`{sum, count, min, max, sumsqr}` of numbers (arrays of numbers: one object per position)."""
    if values and all(isinstance(v, list) for v in values):
        width = max(len(v) for v in values)
        columns = [[v[i] for v in values if i < len(v)] for i in range(width)]
        return [reduce_stats(col) for col in columns]
    out: dict[str, Any] = {"sum": 0, "count": 0, "min": None, "max": None, "sumsqr": 0}
    for v in values:
        if isinstance(v, dict) and {"sum", "count", "min", "max", "sumsqr"} <= set(v):
            # Already-reduced stats, as a map may emit them.
            parts = v
        elif _is_number(v):
            parts = {"sum": v, "count": 1, "min": v, "max": v, "sumsqr": v * v}
        else:
            raise ReduceError(
                "the _stats function requires that map values be numbers or arrays "
                f"of numbers, not '{_describe(v)}'; emit numbers, or use _count."
            )
        out["sum"] += parts["sum"]
        out["count"] += parts["count"]
        out["sumsqr"] += parts["sumsqr"]
        out["min"] = parts["min"] if out["min"] is None else min(out["min"], parts["min"])
        out["max"] = parts["max"] if out["max"] is None else max(out["max"], parts["max"])
    return out


def builtin(name: str, values: list[Any]) -> Any:
    """Apply the built-in reduce `name` (one of BUILTINS) to the values of a group."""
    if name == "_count":
        return reduce_count(values)
    if name == "_sum":
        return reduce_sum(values)
    return reduce_stats(values)
