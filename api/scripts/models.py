"""The script document: its shape, and the checks every save and import goes through.

A script is `script:{slug}` in the tenant's `scripts` database (see `service.py`):
`name`, `description`, `shell` (`powershell`), `body`, typed `parameters`, `risk`, vendor
documentation `links`, optional `tags` and `archived`. A parameter's `default` is checked
against its own type as a value would be, so rendering never meets a bad default; a `secret`
has no default at all, since script documents replicate to devices and secrets never may.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sync.errors import BadRequest

from .render import check_value

SCRIPT_SCHEMA_VERSION = 1
SLUG_PATTERN = r"[a-z0-9][a-z0-9_-]{0,63}"
SCRIPT_ID_RE = re.compile(rf"^script:{SLUG_PATTERN}$")
PARAM_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
PARAM_TYPES = ("string", "int", "bool", "hostname", "ip", "enum", "secret")
RISKS = ("low", "medium", "high")
MAX_BODY = 100_000

# PowerShell's automatic variables (Microsoft Learn, about_Automatic_Variables): a parameter
# of that name would overwrite or fail on them (`$Host` is read-only), so none may be one.
AUTOMATIC_VARIABLES = frozenset(
    name.lower()
    for name in (
        "args ConsoleFileName EnabledExperimentalFeatures Error Event EventArgs EventSubscriber "
        "ExecutionContext false foreach HOME Host input IsCoreCLR IsLinux IsMacOS IsWindows "
        "LASTEXITCODE Matches MyInvocation NestedPromptLevel null PID PROFILE PSBoundParameters "
        "PSCmdlet PSCommandPath PSCulture PSDebugContext PSEdition PSHOME PSItem PSScriptRoot "
        "PSSenderInfo PSUICulture PSVersionTable PWD Sender ShellId StackTrace switch this true"
    ).split()
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A param block of the body's own: the server writes the one param block (render.py), and
# PowerShell allows only one, before any statement.
_OWN_PARAM = re.compile(
    r"\A(?:\s*(?:#[^\n]*)?\n)*\s*(?:\[CmdletBinding[^\]]*\]\s*)?param\s*\(", re.IGNORECASE
)

# `using` statements must precede a script's param block, which the server writes first.
_USING = re.compile(r"^\s*using\s+(?:namespace|module|assembly)\b", re.IGNORECASE | re.MULTILINE)

_STRICT = ConfigDict(extra="forbid", strict=True)


def _plain(text: str, what: str) -> str:
    if _CONTROL.search(text):
        raise ValueError(f"{what} may not contain control characters or line breaks")
    return text


class Link(BaseModel):
    model_config = _STRICT
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=2000, pattern=r"^https://[^\s]+$")


class Parameter(BaseModel):
    model_config = _STRICT
    name: str = Field(pattern=PARAM_NAME_PATTERN)
    type: Literal["string", "int", "bool", "hostname", "ip", "enum", "secret"]
    label: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    required: bool = False
    default: Any = None
    choices: list[str] | None = Field(default=None, min_length=1, max_length=50)
    pattern: str | None = Field(default=None, min_length=1, max_length=500)
    min: int | None = None
    max: int | None = None

    @field_validator("name")
    @classmethod
    def _not_automatic(cls, v: str) -> str:
        if v.lower() in AUTOMATIC_VARIABLES:
            raise ValueError(f"${v} is one of PowerShell's automatic variables; choose another name")
        return v

    @field_validator("choices")
    @classmethod
    def _choices(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            for c in v:
                _plain(c, "a choice")
                if not c or len(c) > 200:
                    raise ValueError("each choice must be 1 to 200 characters")
            if len({c.lower() for c in v}) != len(v):
                raise ValueError("choices must not repeat")
        return v

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                regex.compile(v)
            except regex.error as exc:
                raise ValueError(f"pattern is not a valid regular expression ({exc})") from None
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        kind = self.type
        if (self.choices is not None) != (kind == "enum"):
            raise ValueError("choices are given for enum parameters, and only for them")
        if self.pattern is not None and kind not in ("string", "secret"):
            raise ValueError("pattern applies to string and secret parameters only")
        if (self.min is not None or self.max is not None) and kind not in ("int", "string", "secret"):
            raise ValueError("min and max apply to int (value) and string or secret (length) parameters only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if kind == "secret" and self.default is not None:
            raise ValueError("a secret parameter has no default: scripts replicate to devices, secrets never")
        if self.default is not None:
            try:
                check_value(self.model_dump(exclude_none=True), self.default)
            except BadRequest as exc:
                raise ValueError(f"default: {exc.reason}") from None
        return self


class ScriptDraft(BaseModel):
    """A script as authors write it (the body of POST and PUT, and an export file)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    id: str | None = Field(default=None, alias="_id")
    rev: str | None = Field(default=None, alias="_rev")
    type: Literal["script"] = "script"
    schema_version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=8000)
    shell: Literal["powershell"] = "powershell"
    body: str = Field(min_length=1, max_length=MAX_BODY)
    parameters: list[Parameter] = Field(default_factory=list, max_length=30)
    risk: Literal["low", "medium", "high"]
    links: list[Link] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=20)
    archived: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _plain(v, "name")

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for t in v:
            _plain(t, "a tag")
            if not t or len(t) > 50:
                raise ValueError("each tag must be 1 to 50 characters")
        return v

    @field_validator("body")
    @classmethod
    def _body(cls, v: str) -> str:
        if "\x00" in v:
            raise ValueError("body contains a NUL character")
        if _OWN_PARAM.match(v):
            raise ValueError(
                "body starts with its own param block; declare the parameters in `parameters` "
                "instead (the server writes the param block when it renders the script)"
            )
        if _USING.search(v):
            raise ValueError(
                "body has a `using` statement, which PowerShell allows only before the param block "
                "the server writes; use full type names (System.Net.IPAddress) or Import-Module instead"
            )
        return v

    @model_validator(mode="after")
    def _unique(self) -> ScriptDraft:
        names = [p.name.lower() for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError("parameter names must be unique (PowerShell ignores case)")
        if self.id is not None and not SCRIPT_ID_RE.match(self.id):
            raise ValueError("_id must look like script:restart-citrix-services")
        return self


def check_script(body: Any) -> dict[str, Any]:
    """The body as a stored script document, or `BadRequest` naming the first wrong field."""
    if not isinstance(body, dict):
        raise BadRequest('The body must be a script: a JSON object with "name", "body" and "risk".')
    try:
        model = ScriptDraft.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        msg = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        more = len(exc.errors()) - 1
        tail = f" ({more} more problem(s))" if more else ""
        raise BadRequest(
            f"{where}: {msg}{tail}. See the script format in design_docs/DOCUMENTS.md."
        ) from None
    doc = model.model_dump(by_alias=True, exclude_none=True)
    doc["parameters"] = [p.model_dump(exclude_none=True) for p in model.parameters]
    for p in doc["parameters"]:
        for empty in ("label", "description"):
            if not p.get(empty):
                p.pop(empty, None)
        if not p.get("required"):
            p.pop("required", None)
    return doc
