"""Reading update sequences (`seq`, `since`): the one parser, for both backends and the API.

The embedded store's seqs are integers; CouchDB 3's are opaque strings that begin with a
number and a dash (`"12-g1AAAA..."`), pouchdb-server's are integers again. Only the number
in front is ever read, and only to compare or to resume: the rest is CouchDB's business.
"""

from __future__ import annotations

from typing import Any

from .errors import BadRequest


def seq_number(seq: Any) -> int | None:
    """The number a seq stands for or begins with (`12`, `"12"`, `"12-g1AA..."`), else None.

    Booleans are not numbers here, though Python counts them as such.
    """
    if isinstance(seq, bool):
        return None
    if isinstance(seq, int):
        return seq
    if isinstance(seq, float) and seq.is_integer():
        return int(seq)
    if isinstance(seq, str):
        head = seq.split("-", 1)[0]
        if head.isascii() and head.isdigit():  # "²".isdigit() is true, and int("²") fails
            return int(head)
    return None


def parse_since(since: Any, current: int) -> int:
    """A `since` parameter as the seq to start after: absent or empty is 0, `"now"` is
    `current`, a negative number is 0; anything without a number answers 400."""
    if since is None or since == "":
        return 0
    if since == "now":
        return current
    number = seq_number(since)
    if number is None:
        if isinstance(since, bool):
            raise BadRequest(f"Invalid since value {since!r}.")
        raise BadRequest(f"Invalid since value {since!r}: pass back a seq this database returned.")
    return max(number, 0)
