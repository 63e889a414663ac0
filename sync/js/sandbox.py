"""The sandbox that runs design-document JavaScript: map, filter and validate_doc_update.

The engine is QuickJS, through the PyPI package `quickjs` (1.19.x; prebuilt wheels for
CPython 3.11, no compiler needed). QuickJS is the engine CouchDB 3.4 offers beside
SpiderMonkey, so functions written for CouchDB run here unchanged. The package gives each
`Context` its own QuickJS runtime with the two limits a server needs:

- `set_memory_limit(bytes)`: QuickJS's allocator refuses to grow the runtime past it, and
  the function fails with "out of memory";
- `set_time_limit(seconds)`: QuickJS's interrupt handler stops the function once the
  process has used that much CPU time (`clock()`) since the call began; the interrupt
  cannot be caught by the function's own `try`.

The package releases the GIL while JavaScript runs, so a runaway function holds one worker
thread for at most its budget and never the server. A context is made for one database
and one set of functions, and kept only by the thread that made it (the package warns that
a runtime used from two threads may crash): one tenant's code never shares a runtime with
another's, and a context that hit a limit is thrown away.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
import quickjs  # type: ignore[import-untyped]  # the package ships no type information

from ..errors import BranchlineError

# CPU seconds one call may use. CouchDB's own default (os_process_timeout) is 5 s of wall
# time for a whole batch; one document's function needs far less.
TIME_LIMIT_S = 1.0
# Bytes one context may hold: design-document functions work on one document at a time.
MEMORY_LIMIT = 32 * 1024 * 1024
# Contexts each worker thread keeps for reuse (a fresh one holds about 80 kB).
CONTEXTS_PER_THREAD = 8
# A kept context holding more than this (globals a function filled) is thrown away, checked
# every CHECK_EVERY uses, so kept contexts stay small whatever the functions keep.
RETAINED_LIMIT = 4 * 1024 * 1024
CHECK_EVERY = 64

# The functions CouchDB gives design-document code, and the drivers that call it. Results
# cross into Python as JSON text; what a function throws is turned into a value too, since
# QuickJS hands a thrown object to Python as "[object Object]". InternalError (out of memory,
# stack overflow), and the null QuickJS throws when memory is too short even to build that
# error, are thrown on: those are the sandbox's limits, not the function's answer.
_PRELUDE = r"""
var __fns = [];
var __emitted = null;
function emit(key, value) {
  if (__emitted === null) throw new Error("emit() may only be called from a map function");
  __emitted.push([key === undefined ? null : key, value === undefined ? null : value]);
}
function log(message) {}
function toJSON(value) { return JSON.stringify(value); }
function isArray(value) { return Array.isArray(value); }
function sum(values) { var s = 0; for (var i = 0; i < values.length; i++) s += values[i]; return s; }
function __compile(source) {
  var fn = (0, eval)("(" + source + ")");
  if (typeof fn !== "function") throw new TypeError("the source does not evaluate to a function");
  __fns.push(fn);
  return __fns.length - 1;
}
function __thrown(e) {
  if (e === null || e instanceof InternalError) throw e;
  if (e instanceof Error) return {threw: {error: e.name, reason: String(e.message)}};
  return {threw: e === undefined ? null : e};
}
function __call(index, argsJson) {
  try {
    var result = __fns[index].apply(null, JSON.parse(argsJson));
    return JSON.stringify({ok: result === undefined ? null : result});
  } catch (e) {
    return JSON.stringify(__thrown(e));
  }
}
function __map(indexesJson, docJson) {
  var indexes = JSON.parse(indexesJson), out = [];
  for (var i = 0; i < indexes.length; i++) {
    __emitted = [];
    try {
      __fns[indexes[i]](JSON.parse(docJson));
      out.push({ok: __emitted});
    } catch (e) {
      __emitted = null;
      out.push(__thrown(e));
    }
  }
  __emitted = null;
  return JSON.stringify(out);
}
"""


class JsLimitError(BranchlineError):
    """A function was stopped by the sandbox (CPU time, memory, stack), as CouchDB reports
    a query server it had to kill."""

    status, error = 500, "os_process_error"


class CompilationError(BranchlineError):
    status, error = 400, "compilation_error"


@dataclass(frozen=True)
class Outcome:
    """What one call gave: its return value, or what it threw (`threw` set)."""

    value: Any = None
    threw: Any = None
    failed: bool = False


def _outcome(raw: Any) -> Outcome:
    if not isinstance(raw, dict):
        return Outcome(None)
    if "threw" in raw:
        return Outcome(threw=raw["threw"], failed=True)
    return Outcome(raw.get("ok"))


class Sandbox:
    """One QuickJS context with its limits; use it from the thread that made it only."""

    def __init__(self, *, time_limit_s: float = TIME_LIMIT_S, memory_limit: int = MEMORY_LIMIT) -> None:
        self.time_limit_s = time_limit_s
        self.broken = False
        self._ctx = quickjs.Context()
        self._ctx.set_time_limit(time_limit_s)
        self._ctx.set_memory_limit(memory_limit)
        self._ctx.eval(_PRELUDE)
        self._compile = self._ctx.get("__compile")
        self._call = self._ctx.get("__call")
        self._map = self._ctx.get("__map")

    def compile(self, source: Any, where: str) -> int:
        """Compile a function's source; `where` names it in the error ("the filter x")."""
        if not isinstance(source, str):
            raise CompilationError(f"The source of {where} must be a string of JavaScript.")
        try:
            return int(self._run(self._compile, where, source))
        except quickjs.JSException as exc:
            if _is_limit(exc):
                raise _limit_error(exc, where, self.time_limit_s) from None
            raise CompilationError(
                f"Compilation of {where} failed: {_first_line(exc)}. "
                "Fix the function's source in the design document."
            ) from None

    def call(self, index: int, args: list[Any], where: str) -> Outcome:
        """Call a compiled function with JSON arguments."""
        try:
            raw = self._run(self._call, where, index, orjson.dumps(args).decode())
        except quickjs.JSException as exc:
            raise _limit_error(exc, where, self.time_limit_s) from None
        return _outcome(orjson.loads(raw))

    def map(self, indexes: list[int], doc: dict[str, Any], where: str) -> list[Outcome]:
        """Run map functions over one document: per function, its `[key, value]` pairs."""
        try:
            raw = self._run(self._map, where, orjson.dumps(indexes).decode(), orjson.dumps(doc).decode())
        except quickjs.JSException as exc:
            raise _limit_error(exc, where, self.time_limit_s) from None
        return [_outcome(item) for item in orjson.loads(raw)]

    def memory_used(self) -> int:
        return int(self._ctx.memory()["memory_used_size"])

    def _run(self, fn: Any, where: str, *args: Any) -> Any:
        try:
            return fn(*args)
        except quickjs.StackOverflow:
            self.broken = True
            raise JsLimitError(
                f"{where} recursed too deeply and was stopped; make it finish without unbounded recursion."
            ) from None
        except quickjs.JSException as exc:
            if _is_limit(exc):
                self.broken = True
            raise


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or ["unknown error"])[0]


def _is_limit(exc: BaseException) -> bool:
    text = _first_line(exc)
    return text in ("null", "InternalError: interrupted") or text.startswith(
        ("InternalError: out of memory", "InternalError: stack overflow")
    )


def _limit_error(exc: BaseException, where: str, time_limit_s: float) -> BranchlineError:
    text = _first_line(exc)
    if text == "InternalError: interrupted":
        return JsLimitError(
            f"{where} ran past its budget of {time_limit_s:g} s of CPU time and "
            "was stopped; make it finish quickly (no unbounded loops)."
        )
    if _is_limit(exc):
        return JsLimitError(
            f"{where} used more than the {MEMORY_LIMIT // (1024 * 1024)} MB a design "
            "function may use and was stopped; make it build smaller values."
        )
    return JsLimitError(f"{where} failed: {text}.")


@dataclass
class _Kept:
    sandbox: Sandbox
    handles: dict[str, int]
    uses: int = 0


class _ThreadContexts(threading.local):
    def __init__(self) -> None:
        self.contexts: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], _Kept] = OrderedDict()


_local = _ThreadContexts()


def compiled(scope: str, sources: dict[str, str], what: dict[str, str]) -> tuple[Sandbox, dict[str, int]]:
    """A sandbox holding `sources` compiled (name -> function index), for this thread.

    `scope` is the physical database name: a context serves one database's functions only,
    so no tenant's code ever runs in a runtime another's has touched. `what[name]` names a
    function in error messages. A context reused from a previous request keeps the globals
    its functions set, as CouchDB's query-server processes do.
    """
    key = (scope, tuple(sorted(sources.items())))
    cache = _local.contexts
    hit = cache.get(key)
    if hit is not None and not hit.sandbox.broken:
        hit.uses += 1
        if hit.uses % CHECK_EVERY or hit.sandbox.memory_used() <= RETAINED_LIMIT:
            cache.move_to_end(key)
            return hit.sandbox, hit.handles
    sandbox = Sandbox()
    handles = {name: sandbox.compile(src, what.get(name, name)) for name, src in sources.items()}
    cache[key] = _Kept(sandbox, handles)
    cache.move_to_end(key)
    while len(cache) > CONTEXTS_PER_THREAD:
        cache.popitem(last=False)
    return sandbox, handles
