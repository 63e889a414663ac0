"""Dependencies inside `sync/` point one way: no module reaches itself through its imports.

Every import counts, including those made inside functions and under `TYPE_CHECKING`: a lazy
import hides a circle from Python, not from the reader who has to understand both files.
"""

from __future__ import annotations

import ast
from pathlib import Path

SYNC = Path(__file__).resolve().parents[1] / "sync"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SYNC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str) -> set[str]:
    """The `sync.*` modules `path` imports, resolved to module names."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("sync."))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("sync"):
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)
    return out


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in SYNC.rglob("*.py")}
    return {m: {i for i in _imports(p, m) if i in files and i != m} for m, p in files.items()}


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path of imports from `start` back to itself, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_the_couchdb_backend_modules_import_one_way():
    graph = import_graph()
    family = sorted(m for m in graph if m.startswith("sync.couchdb"))
    assert {"sync.couchdb", "sync.couchdb_ddocs", "sync.couchdb_watch", "sync.couchdb_client"} <= set(family)
    circles = {m: c for m in family if (c := cycle_through(graph, m)) is not None}
    assert not circles, " ; ".join(" -> ".join(c) for c in circles.values())


def test_the_cycle_finder_sees_a_lazy_circle():
    graph = {"sync.a": {"sync.b"}, "sync.b": {"sync.c"}, "sync.c": {"sync.a"}, "sync.d": {"sync.a"}}
    assert cycle_through(graph, "sync.a") == ["sync.a", "sync.b", "sync.c", "sync.a"]
    assert cycle_through(graph, "sync.d") is None
