"""The sandbox (sync/js/sandbox.py) on its own: limits, and the contexts a thread keeps."""

from __future__ import annotations

import pytest

from sync.js import sandbox as sb


def test_a_kept_context_that_grew_large_is_replaced():
    sources = {
        "f": "function (doc) { big = []; for (var i = 0; i < 200000; i++) big.push('x' + i); return 1; }"
    }
    box, handles = sb.compiled("test-scope-grow", sources, {})
    box.call(handles["f"], [{}], "f")
    assert box.memory_used() > sb.RETAINED_LIMIT
    seen = {id(sb.compiled("test-scope-grow", sources, {})[0]) for _ in range(sb.CHECK_EVERY)}
    assert len(seen) == 2, "the grown context was kept"


def test_limits_stop_loops_allocation_and_recursion():
    box = sb.Sandbox(time_limit_s=0.2)
    loop = box.compile("function () { while (true) {} }", "loop")
    with pytest.raises(sb.JsLimitError, match="CPU time"):
        box.call(loop, [], "loop")
    assert box.broken
    box = sb.Sandbox()
    hog = box.compile("function () { var a = []; while (true) a.push('x' + a.length); }", "hog")
    with pytest.raises(sb.JsLimitError, match="MB"):
        box.call(hog, [], "hog")
    box = sb.Sandbox()
    deep = box.compile("function f() { return f() + 1; }", "deep")
    with pytest.raises(sb.JsLimitError, match="recursed"):
        box.call(deep, [], "deep")


def test_thrown_values_come_back_as_values():
    box = sb.Sandbox()
    fn = box.compile("function (doc) { if (doc.bad) throw({forbidden: 'no'}); return doc.n * 2; }", "f")
    assert box.call(fn, [{"n": 2}], "f").value == 4
    out = box.call(fn, [{"bad": True}], "f")
    assert out.failed and out.threw == {"forbidden": "no"}
    with pytest.raises(sb.CompilationError):
        box.compile("function (", "broken")
