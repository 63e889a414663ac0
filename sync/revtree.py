"""Revision trees: pure functions, no I/O.

A tree is a flat mapping `{rev: [parent_rev | None, deleted]}` where `rev` is CouchDB's
`"<pos>-<id>"`. A flat map (rather than PouchDB's nested paths) makes the two questions the
store asks all the time cheap: "is this rev known?" is a dict lookup, and "which revs are
leaves?" is one pass. A node whose parent is `None` is a root: either the document's first
revision or the oldest one left after stemming.

Only a leaf's `deleted` flag matters (it decides the winner); inner nodes learnt from a
`_revisions` list carry `False` because their own state was never sent.

The rules (CouchDB's, which PouchDB follows too):

- The winning revision is the leaf that sorts highest by (not deleted, position, id).
- Merging a path grafts it where it overlaps the tree and starts a new branch where it
  does not; merging a path that is already known changes nothing.
- Stemming keeps, for every leaf, that leaf and its `limit - 1` nearest ancestors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

import orjson

from .errors import BadRequest

Tree = dict[str, list[Any]]  # rev -> [parent rev or None, deleted]

# CouchDB takes any revision id after the position (it only tries to read it as hex), so a
# well-formed rev it has never seen is a conflict, not a bad request.
_REV = re.compile(r"^([0-9]+)-([^\x00-\x20\x7f]+)$")


def parse_rev(rev: Any) -> tuple[int, str]:
    """Split `"3-abc"` into `(3, "abc")`; raise `BadRequest` for anything else."""
    if isinstance(rev, str):
        m = _REV.match(rev)
        if m:
            pos = int(m.group(1))
            if pos > 0:
                return pos, m.group(2)
    raise BadRequest(f"Invalid rev format {rev!r}: a revision looks like '3-<hex id>'.", error="bad_request")


def rev_pos(rev: str) -> int:
    """The position (generation) of a well-formed rev string."""
    return int(rev.split("-", 1)[0])


def _sort_key(rev: str, deleted: bool) -> tuple[bool, int, str]:
    pos, _, rid = rev.partition("-")
    return (not deleted, int(pos), rid)


def leaf_set(tree: Tree) -> set[str]:
    """Leaf revs, unordered (cheaper than `leaves` when order does not matter)."""
    parents = {node[0] for node in tree.values()}
    return {rev for rev in tree if rev not in parents}


def leaves(tree: Tree) -> list[str]:
    """Leaf revs, best first (the winner is element 0)."""
    parents = {node[0] for node in tree.values()}
    out = [rev for rev in tree if rev not in parents]
    out.sort(key=lambda r: _sort_key(r, tree[r][1]), reverse=True)
    return out


def winning_rev(tree: Tree) -> str:
    """The deterministic winner: non-deleted leaves first, then highest position, then id."""
    parents = {node[0] for node in tree.values()}
    best: str | None = None
    best_key: tuple[bool, int, str] | None = None
    for rev, node in tree.items():
        if rev in parents:
            continue
        key = _sort_key(rev, node[1])
        if best_key is None or key > best_key:
            best, best_key = rev, key
    if best is None:
        raise ValueError("empty revision tree")
    return best


def is_deleted(tree: Tree, rev: str) -> bool:
    return bool(tree[rev][1])


def conflicts(tree: Tree, winner: str | None = None) -> tuple[list[str], list[str]]:
    """`(_conflicts, _deleted_conflicts)`: the other leaves, live and deleted, best first."""
    winner = winner or winning_rev(tree)
    live: list[str] = []
    dead: list[str] = []
    for rev in leaves(tree):
        if rev == winner:
            continue
        (dead if tree[rev][1] else live).append(rev)
    return live, dead


def ancestry(tree: Tree, rev: str) -> list[str]:
    """`rev` and its known ancestors, newest first."""
    out = []
    cur: str | None = rev
    while cur is not None and cur in tree:
        out.append(cur)
        cur = tree[cur][0]
    return out


def revisions(tree: Tree, rev: str) -> dict[str, Any]:
    """The `_revisions` object of `rev`: `{"start": pos, "ids": [id, parent id, ...]}`."""
    chain = ancestry(tree, rev)
    return {"start": rev_pos(rev), "ids": [r.split("-", 1)[1] for r in chain]}


def is_leaf(tree: Tree, rev: str) -> bool:
    """Whether `rev` is in `tree` and nothing descends from it."""
    return rev in tree and all(node[0] != rev for node in tree.values())


def descendant_leaves(tree: Tree, rev: str) -> list[str]:
    """Leaves that have `rev` as an ancestor (or are `rev`), best first."""
    if is_leaf(tree, rev):
        return [rev]  # nothing descends from it
    out = []
    for leaf in leaves(tree):
        cur: str | None = leaf
        while cur is not None:
            if cur == rev:
                out.append(leaf)
                break
            if rev_pos(cur) <= rev_pos(rev):
                break
            cur = tree.get(cur, [None])[0]
    return out


def path_from_revisions(rev: str | None, revisions_obj: Any) -> list[str]:
    """The path (newest first) a `new_edits=false` document describes.

    Without `_revisions` the path is just `[rev]`. With it, `_revisions` alone decides, as
    in CouchDB: a `_rev` that disagrees with it is ignored (PouchDB sends such documents
    when it replicates some conflicts). Raises `BadRequest` when `_revisions` is malformed.
    """
    if revisions_obj is None:
        parse_rev(rev)
        return [str(rev)]
    if (
        not isinstance(revisions_obj, dict)
        or not isinstance(revisions_obj.get("start"), int)
        or not isinstance(revisions_obj.get("ids"), list)
        or not revisions_obj["ids"]
    ):
        raise BadRequest(
            '_revisions must be {"start": N, "ids": [...]} with at least one id.', error="bad_request"
        )
    start, ids = revisions_obj["start"], revisions_obj["ids"]
    if len(ids) > start:
        raise BadRequest("_revisions lists more ids than its start position allows.", error="bad_request")
    path = []
    for i, ident in enumerate(ids):
        if not isinstance(ident, str) or not ident:
            raise BadRequest("_revisions ids must be non-empty strings.", error="bad_request")
        path.append(f"{start - i}-{ident}")
        parse_rev(path[-1])
    return path


def merge(tree: Tree, path: list[str], deleted: bool) -> tuple[Tree, bool]:
    """Merge `path` (newest first, consecutive positions) into a copy of `tree`.

    The newest rev is the path's leaf and carries `deleted`. Returns `(new_tree, changed)`;
    `changed` is False when the path adds nothing. Where the path overlaps known revs it
    grafts onto them (and may also supply parents of a stemmed root); where it does not, it
    becomes a new branch rooted at its oldest rev.
    """
    new = {rev: list(node) for rev, node in tree.items()}
    changed = False
    for i, rev in enumerate(path):
        parent = path[i + 1] if i + 1 < len(path) else None
        node = new.get(rev)
        if node is None:
            new[rev] = [parent, bool(deleted) if i == 0 else False]
            changed = True
        elif node[0] is None and parent is not None:
            # A stemmed (or path-less) root learns its parent: link rather than fork.
            node[0] = parent
            changed = True
    return new, changed


def stem(tree: Tree, limit: int) -> Tree:
    """Keep each leaf and its `limit - 1` nearest ancestors; drop everything else.

    As CouchDB's `couch_key_tree:stem` does, a rev survives when it lies within `limit`
    of some leaf, and two surviving revs stay linked. So where a short branch keeps an old
    ancestor alive, a longer sibling branch can still reach it and report more than
    `limit` revs in `_revisions`; no rev within any leaf's window is ever lost.
    """
    if limit < 1:
        limit = 1
    if len(tree) <= limit:
        return tree  # every rev is within `limit` of a leaf below it
    keep: set[str] = set()
    for leaf in leaves(tree):
        cur: str | None = leaf
        depth = 0
        while cur is not None and depth < limit:
            keep.add(cur)
            cur = tree[cur][0]
            depth += 1
    if len(keep) == len(tree):
        return tree
    return {rev: [node[0] if node[0] in keep else None, node[1]] for rev, node in tree.items() if rev in keep}


def depth(tree: Tree) -> int:
    """The length of the longest chain from a leaf to its root."""
    return max((len(ancestry(tree, leaf)) for leaf in leaves(tree)), default=0)


def encode(value: Any, option: int = 0) -> bytes:
    """JSON bytes for storage; `BadRequest` for what JSON (or 64-bit integers) cannot hold."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        raise BadRequest(
            f"Document cannot be stored as JSON: {exc}. Integers must fit in "
            "64 bits and keys must be strings.",
            error="bad_request",
        ) from None


def _canonical(value: Any) -> bytes:
    return encode(value, orjson.OPT_SORT_KEYS)


def new_rev(
    parent: str | None,
    deleted: bool,
    body: dict[str, Any],
    attachment_digests: Iterable[tuple[str, str]] = (),
) -> str:
    """The rev of a new edit: `N-<md5 hex>` of the parent, the deletion flag, the body
    (without `_` members) and the attachments' digests.

    Deterministic, like CouchDB: the same edit of the same parent gives the same rev, so two
    devices making the identical change do not create a conflict.
    """
    pos = rev_pos(parent) + 1 if parent else 1
    payload = [
        parent or "",
        bool(deleted),
        {k: v for k, v in body.items() if not k.startswith("_")},
        sorted(attachment_digests),
    ]
    return f"{pos}-{hashlib.md5(_canonical(payload)).hexdigest()}"


def dumps(tree: Tree) -> bytes:
    """Compact storage form: deleted as 0/1.

    Readers rely on the compact form: a stored tree without `],` has one revision
    (see `EmbeddedDatabase.changes`)."""
    return orjson.dumps({rev: [n[0], 1 if n[1] else 0] for rev, n in tree.items()})


def loads(data: bytes | str) -> Tree:
    raw = orjson.loads(data)
    return {rev: [n[0], bool(n[1])] for rev, n in raw.items()}
