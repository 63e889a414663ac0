"""Rendering a script with parameter values so that no value can change its structure.

The approach: a generated `param(...)` block whose defaults are the values, each written as
a single-quoted PowerShell literal with every single-quote character doubled, followed by
the script's body unchanged. Why this one and not an encoded argument list:

- The rendered text is what an engineer reads before running it and what they copy into a
  console; the values stay readable in it. A Base64 `-EncodedCommand` or encoded argument
  block would hide them from the person approving a high-risk run.
- The text is self-contained: every RMM (NinjaOne, Datto, ConnectWise Automate) takes a script
  body, and a saved copy still takes `-Name value` from the command line, since defaults of a
  param block are overridable.
- A single-quoted literal is the one PowerShell string with no expansion at all: no `$()`,
  no variables, no backtick escapes. Its only special characters are the single quotes,
  and PowerShell's tokenizer takes four Unicode characters as single quotes besides `'`:
  U+2018, U+2019, U+201A and U+201B (any one of them opens or closes the string, and any two
  in a row are one escaped quote). Each of the five is doubled, so the literal only ends at
  the closing quote we write.

Values are validated by type before they are written: ints, bools, IP addresses and host
names are rendered from their parsed form, never from the text sent; NUL (which truncates
strings in native tools and logs) is refused in every value, and other control characters
except tab and line breaks are refused in text values.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import regex

from sync.errors import BadRequest

# The characters PowerShell's tokenizer treats as a single quote (`IsSingleQuote`).
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_QUOTE_RE = re.compile(f"([{SINGLE_QUOTES}])")
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Line breaks of any kind end a `#` comment; the header line never carries one.
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_PARAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")

# An author's pattern runs on every value sent: a pattern that backtracks without end
# (`(a+)+$`) is cut off after this long instead of holding a server thread.
PATTERN_SECONDS = 0.05

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PowerShell's [int]
MAX_TEXT = 4096

# How each parameter type is declared in the param block.
PS_TYPES = {
    "string": "[string]",
    "secret": "[string]",
    "hostname": "[string]",
    "ip": "[string]",
    "enum": "[string]",
    "int": "[int]",
    "bool": "[switch]",
}


def quote(text: str) -> str:
    """`text` as a single-quoted PowerShell literal: every kind of single quote doubled."""
    return "'" + _QUOTE_RE.sub(r"\1\1", text) + "'"


def _refuse(name: str, why: str) -> BadRequest:
    return BadRequest(f"Parameter {name!r}: {why}")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _refuse(name, f"expected text, got {type(value).__name__}.")
    if "\x00" in value:
        raise _refuse(name, "contains a NUL character; remove it.")
    if _BAD_TEXT.search(value):
        raise _refuse(name, "contains a control character; only tabs and line breaks are allowed.")
    if len(value) > MAX_TEXT:
        raise _refuse(name, f"is longer than {MAX_TEXT} characters.")
    return value


def matches(pattern: str, text: str) -> bool:
    """`text` matches `pattern` as a whole (the `regex` module, with a time limit)."""
    return regex.fullmatch(pattern, text, timeout=PATTERN_SECONDS) is not None


def _int(name: str, value: Any, param: dict[str, Any]) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _refuse(name, f"expected a whole number, got {type(value).__name__}.")
    if isinstance(value, str):
        if "\x00" in value or not re.fullmatch(r"-?[0-9]{1,10}", value.strip()):
            raise _refuse(name, f"{value!r} is not a whole number.")
        value = int(value.strip())
    low = param.get("min", INT_MIN)
    high = param.get("max", INT_MAX)
    if not low <= value <= high:
        raise _refuse(name, f"{value} is outside {low}..{high}.")
    return value


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _refuse(name, "expected true or false.")


def is_hostname(text: str) -> bool:
    """A DNS name (RFC 1123 labels, at most 253 characters) or a NetBIOS computer name."""
    name = text[:-1] if text.endswith(".") else text
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def _hostname(name: str, value: Any) -> str:
    text = _text(name, value).strip()
    if not is_hostname(text):
        raise _refuse(
            name, f"{value!r} is not a host name: letters, digits and hyphens in dot-separated labels."
        )
    return text


def _ip(name: str, value: Any) -> str:
    text = _text(name, value).strip()
    if "%" in text:
        # Python accepts any text as an IPv6 zone (`fe80::1%eth0`); a remote target has none.
        raise _refuse(name, f"{value!r} has a zone (%...); send the address alone.")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise _refuse(name, f"{value!r} is not an IPv4 or IPv6 address.") from None


def check_value(param: dict[str, Any], value: Any) -> str:
    """Validate `value` for `param` and answer its PowerShell literal."""
    name, kind = param["name"], param["type"]
    if kind == "int":
        return str(_int(name, value, param))
    if kind == "bool":
        return "$true" if _bool(name, value) else "$false"
    if kind == "hostname":
        return quote(_hostname(name, value))
    if kind == "ip":
        return quote(_ip(name, value))
    text = _text(name, value)
    if kind == "enum" and text not in param.get("choices", []):
        raise _refuse(name, f"{text!r} is not one of {', '.join(param.get('choices', []))}.")
    if kind in ("string", "secret"):
        if param.get("required") and not text:
            raise _refuse(name, "is required and may not be empty.")
        pattern = param.get("pattern")
        if pattern and text:
            try:
                ok = matches(pattern, text)
            except TimeoutError:
                raise _refuse(name, "took too long to check against its pattern; shorten it.") from None
            if not ok:
                raise _refuse(name, f"does not match the pattern {pattern}.")
        if "min" in param and len(text) < param["min"]:
            raise _refuse(name, f"is shorter than {param['min']} characters.")
        if "max" in param and len(text) > param["max"]:
            raise _refuse(name, f"is longer than {param['max']} characters.")
    return quote(text)


def _declaration(param: dict[str, Any], literal: str | None) -> str:
    line = f"    {PS_TYPES[param['type']]}${param['name']}"
    return line if literal is None else f"{line} = {literal}"


def render(script: dict[str, Any], values: dict[str, Any]) -> str:
    """The script's text with `values` bound: a param block, then the body.

    `script` is a script document (draft or published copy) with `body` and `parameters`;
    `values` maps parameter names to values (JSON types, or text as typed in a session).
    Raises `BadRequest` naming the parameter for an unknown name, a missing required value,
    or a value that fails its type.
    """
    if not isinstance(values, dict):
        raise BadRequest("parameters must be an object of parameter name to value.")
    params = script.get("parameters") or []
    for param in params:
        # The caller may hand over a document that never went through `models.check_script`
        # (the RMM dispatch reads stored versions): a name or type is never written unchecked.
        if not isinstance(param, dict) or not _PARAM_NAME.match(str(param.get("name", ""))):
            raise BadRequest(
                "The script has a parameter without a valid name; fix the script and publish it again."
            )
        if param.get("type") not in PS_TYPES:
            raise BadRequest(
                f"Parameter {param['name']!r} has an unknown type; fix the script and publish it again."
            )
    known = {p["name"].lower(): p for p in params}
    unknown = [k for k in values if not isinstance(k, str) or k.lower() not in known]
    if unknown:
        raise BadRequest(
            f"Unknown parameter(s) {', '.join(map(repr, unknown))}; this script takes "
            f"{', '.join(p['name'] for p in params) or 'no parameters'}."
        )
    given = {k.lower(): v for k, v in values.items()}
    if len(given) != len(values):
        raise BadRequest("A parameter is given twice (names ignore case, as in PowerShell); send each once.")
    lines = []
    for param in params:
        value = given.get(param["name"].lower())
        if value is None and param["type"] != "secret" and "default" in param:
            value = param["default"]
        if value is None:
            if param.get("required"):
                raise _refuse(param["name"], "is required; send a value for it.")
            lines.append(_declaration(param, "$false" if param["type"] == "bool" else None))
            continue
        lines.append(_declaration(param, check_value(param, value)))
    header = "# " + _LINE_BREAKS.sub(" ", str(script.get("name") or "Script"))
    version = script.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        header += f" (version {version})"
    block = "param(\n" + ",\n".join(lines) + "\n)\n" if lines else "param()\n"
    body = script.get("body", "")
    return f"{header}\n{block}\n{body if body.endswith(chr(10)) else body + chr(10)}"
