"""CouchDB's view collation: the order of view keys, as a pure function.

The order by type: null < false < true < numbers < strings < arrays < objects. Numbers
compare by value (1 and 1.0 are equal). Arrays compare element by element, a shorter
prefix first; objects likewise member by member (name, then value), in their order.

Strings: CouchDB uses ICU's Unicode Collation Algorithm. This is a fair approximation
without ICU: strings compare case-insensitively first (Unicode case folding, so "a" <
"B" < "c"), then, as ICU's tertiary level does, lowercase before uppercase ("a" < "A"),
then by code point. Accents and punctuation are not given ICU's lower weights, so
"résumé" sorts after "resume" and before "rf" only by code point order of the folded text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

SortKey = tuple[Any, ...]


def sort_key(value: Any) -> SortKey:
    """A Python tuple that orders JSON values as CouchDB collates them."""
    if value is None:
        return (0,)
    if value is False:
        return (1,)
    if value is True:
        return (2,)
    if isinstance(value, (int, float)):
        return (3, value)
    if isinstance(value, str):
        return (4, *string_key(value))
    if isinstance(value, list):
        return (5, tuple(sort_key(v) for v in value))
    if isinstance(value, dict):
        return (6, tuple((string_key(k), sort_key(v)) for k, v in value.items()))
    raise TypeError(f"not a JSON value: {value!r}")


def string_key(text: str) -> SortKey:
    # swapcase() puts lowercase first among strings equal but for case.
    return (text.casefold(), text.swapcase(), text)


def collate(a: Any, b: Any) -> int:
    """-1, 0 or 1 as JSON value `a` sorts before, with, or after `b`."""
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


@lru_cache(maxsize=65536)
def _json_key(text: str) -> SortKey:
    return sort_key(orjson.loads(text))


def collate_json(a: str, b: str) -> int:
    """`collate` of two JSON texts: the SQLite collation the view index sorts keys with."""
    ka, kb = _json_key(a), _json_key(b)
    return (ka > kb) - (ka < kb)


def collate_ids(a: str, b: str) -> int:
    """Document ids (plain strings) in the same string order, to break ties between rows."""
    ka, kb = string_key(a), string_key(b)
    return (ka > kb) - (ka < kb)
