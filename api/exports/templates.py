"""The Jinja2 environments: the built-in templates, and tenants' overrides in the sandbox.

Built-in templates live in `templates/*.j2`. Markdown and text always use them (the PWA
reproduces them offline); tenants may override HTML, PDF and ConnectWise, and those run in
Jinja2's immutable sandbox: no attribute starting with `_`, no mutation of the model, no
access to Python internals. An override is compiled and rendered against a sample model
when it is saved, so a broken one is refused then, with its line and error, never at export
time.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from . import markdown, text

TEMPLATE_DIR = Path(__file__).parent / "templates"
BUILTIN = {
    "markdown": "markdown.j2",
    "text": "text.j2",
    "html": "html.j2",
    "pdf": "pdf.j2",
    "connectwise": "connectwise.j2",
}
OVERRIDABLE = ("html", "pdf", "connectwise")
AUTOESCAPED = ("html", "pdf")
MAX_TEMPLATE_CHARS = 200_000

_BLANK_RUNS = re.compile(r"\n{3,}")


def _filters() -> dict:
    return {**markdown.FILTERS, **text.FILTERS}


def _options(fmt: str) -> dict:
    return {
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "autoescape": fmt in AUTOESCAPED,
        "undefined": jinja2.Undefined,
    }


class _ModelEnvironment(jinja2.Environment):
    """The built-in templates read a view model made of plain dicts: look keys up first.

    Jinja tries Python attributes before keys, so every `x.notes` on a dict raised and caught
    an AttributeError first; on a 200-step session that was a third of the render time.
    The built-in templates call no dict methods, so keys first changes nothing they show."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def builtin_env(fmt: str) -> jinja2.Environment:
    env = _ModelEnvironment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), **_options(fmt))
    env.filters.update(_filters())
    return env


MAX_SEQUENCE = 100_000  # characters or items one expression in a tenant template may build
# Defaults of one render's budgets (the server passes its settings instead).
MAX_LOOP_ITERATIONS = 250_000
MAX_OUTPUT_CHARS = 2_000_000
# str methods whose first argument is the length of the string they build.
_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})
_LOOP_GUARD = "_loop_guard"


class _LoopBudget:
    """Loop iterations one render may still run, across every loop of the template."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise SecurityError(f"the template ran more than {self.limit} loop iterations")


_BUDGET: ContextVar[_LoopBudget | None] = ContextVar("template_loop_budget", default=None)


def _counted(iterable, budget: _LoopBudget):
    for item in iterable:
        budget.spend()
        yield item


def _loop_guard(iterable):
    """Wrapped around every `for` of a tenant template (see `compile_tenant`): nested loops
    over `range(100000)` stop at the render's budget instead of running for hours."""
    budget = _BUDGET.get()
    return iterable if budget is None else _counted(iterable, budget)


def _refuse_long(width) -> None:
    if isinstance(width, int) and width > 10 * MAX_SEQUENCE:
        raise SecurityError(f"a template may not pad text to {width} characters")


class TenantSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus limits on the operators that can build huge values: a tenant's
    `{{ "x" * 10**10 }}` or `{{ ''.ljust(300000000) }}` must fail at save time, not
    exhaust the server's memory. (What slips past these checks meets the worker process's
    memory limit, see `sandbox.py`.)"""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call(__self, __context, __obj, *args, **kwargs):
        if (
            isinstance(getattr(__obj, "__self__", None), str)
            and getattr(__obj, "__name__", "") in _PADDING_METHODS
        ):
            _refuse_long(args[0] if args else kwargs.get("width"))
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > 64:
                raise SecurityError("exponent too large in a template")
            return left**right
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and isinstance(count, int)
                    and len(seq) * count > MAX_SEQUENCE
                ):
                    raise SecurityError(
                        f"a template expression may build at most {MAX_SEQUENCE} characters or items"
                    )
            return left * right
        result = left + right
        if isinstance(result, (str, list, tuple)) and len(result) > 10 * MAX_SEQUENCE:
            raise SecurityError("a template expression built too long a value")
        return result


def _width_checked(name: str, original):
    def checked(value, width=80, *args, **kwargs):
        _refuse_long(width)
        return original(value, width, *args, **kwargs)

    checked.__name__ = name
    return checked


_PLAIN = (str, int, float, bool, type(None), jinja2.Undefined)


def _plain(value) -> bool:
    """Text, numbers, booleans, nothing, and lists or mappings made of them: the view model."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False


def _print_plain_only(value):
    """What `{{ ... }}` prints in a tenant template: data, never a Python object.

    Printing a function, method, class or Jinja helper (`{{ lipsum }}`, `{{ m.items }}`,
    `{{ loop }}`) would show `<... at 0x7f...>`, a memory address of the server process
    that helps an attacker defeat address randomisation, in an export sent to a customer.
    """
    if _plain(value):
        return value
    raise SecurityError(
        f"{{{{ ... }}}} may print text, numbers and lists or objects of them, not "
        f"a {type(value).__name__}; print one of its fields instead (e.g. m.title)"
    )


@cache
def sandbox_env(fmt: str) -> ImmutableSandboxedEnvironment:
    env = TenantSandbox(**_options(fmt), finalize=_print_plain_only)
    env.filters.update(_filters())
    for name in ("center", "indent", "hang", "indent_lines"):
        if name in env.filters:
            env.filters[name] = _width_checked(name, env.filters[name])
    env.filters[_LOOP_GUARD] = _loop_guard
    return env


@cache
def builtin_template(fmt: str) -> jinja2.Template:
    return builtin_env(fmt).get_template(BUILTIN[fmt])


def builtin_source(fmt: str) -> str:
    return (TEMPLATE_DIR / BUILTIN[fmt]).read_text(encoding="utf-8")


def tidy(out: str) -> str:
    """Layouts end every block with a blank line: make runs of them one, end with one newline."""
    return _BLANK_RUNS.sub("\n\n", out).strip("\n") + "\n"


class TemplateProblem(Exception):
    """A tenant template that does not compile or does not render; `line` may be None."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


_TENANT_NAME = "<tenant template>"


@lru_cache(maxsize=64)
def compile_tenant(fmt: str, source: str) -> jinja2.Template:
    """Compile a tenant's template in the sandbox; raises TemplateProblem with the line."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateProblem(f"the template is longer than {MAX_TEMPLATE_CHARS} characters", None)
    env = sandbox_env(fmt)
    try:
        tree = env.parse(source, name=_TENANT_NAME, filename=_TENANT_NAME)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _LOOP_GUARD, [], [], None, None, lineno=loop.iter.lineno)
        code = env.compile(tree, name=_TENANT_NAME, filename=_TENANT_NAME)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(exc.message or str(exc), exc.lineno) from None
    except RecursionError:
        raise TemplateProblem("the template is nested too deeply", None) from None
    return env.template_class.from_code(env, code, env.make_globals(None))


def render_tenant(
    template: jinja2.Template,
    context: dict,
    *,
    max_loops: int = MAX_LOOP_ITERATIONS,
    max_output: int = MAX_OUTPUT_CHARS,
) -> str:
    """Render a tenant's template within a budget of loop iterations and output characters;
    any failure becomes TemplateProblem with the line. (Time and memory are bounded by the
    worker process it runs in, see `sandbox.py`.)"""
    token = _BUDGET.set(_LoopBudget(max_loops))
    try:
        pieces, size = [], 0
        for piece in template.generate(**context):
            size += len(piece)
            if size > max_output:
                raise TemplateProblem(f"the template produced more than {max_output} characters", None)
            pieces.append(piece)
        return "".join(pieces)
    except TemplateProblem:
        raise
    except SecurityError as exc:
        raise TemplateProblem(f"not allowed in a template: {exc}", _line_of(exc)) from None
    except MemoryError:
        raise TemplateProblem("the template needed more memory than a template may use", None) from None
    except Exception as exc:  # noqa: BLE001 - any error in a user's template is the user's to fix
        raise TemplateProblem(f"{type(exc).__name__}: {exc}", _line_of(exc)) from None
    finally:
        _BUDGET.reset(token)


def _line_of(exc: BaseException) -> int | None:
    """The template line an error was raised on (Jinja2 rewrites tracebacks to template lines)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TENANT_NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
