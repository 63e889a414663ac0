"""The content checker for the starter library: rules a tree's *content* must meet.

`api.trees.validation` decides whether a tree is complete and runnable, for every tenant's
trees. This module asks more of the trees we ship in `seeds/trees/`: that an engineer can
paste every command as written, that nothing in a command is a documentation example that
would run against the wrong thing, that every step that can hurt a machine says so before
the engineer runs it, that every link leads to the page that backs the step, and that every
resolution says what was wrong and how the fix was proven.

It lives with the tests, not in `api/`, because its PowerShell rule needs a real parser
(tree-sitter with the PowerShell grammar), which is a test extra, not a server dependency.

The rules (`check_tree` lists every finding at once; each rule is a small pure function,
unit-tested on a bad snippet in test_content_checker.py):
1. syntax: `commands[].language` is one of KNOWN_LANGUAGES; PowerShell parses with
   tree-sitter-powershell without ERROR or MISSING nodes once `{{input.x}}`/`{{client.x}}`
   become a harmless word; cmd lines close their double quotes and never start with `#`;
   bash/sh/sonicos split with shlex; no PowerShell cmdlet at a command position outside a
   powershell block.
2. examples: no LITERAL_EXAMPLES in a command (text blocks aside): example companies and
   domains, `user@`, `JOB NAME`, sample DNs, SERVERNAME-style names, RFC 5737 addresses,
   sample recovery passwords, `<angle>` placeholders (the convention is `{{input.x}}`).
3. warning: a step whose commands match RISKY has a non-empty `warning`.
4. links: `links[]`, Markdown links in body/help/warning and the tree's `sources` are https,
   have a path, and are not in DOCS_HOME_PAGES.
5. resolution: `resolved` needs a specific `root_cause` and `verification`; `escalated` a
   `root_cause` and a `handover`; `unresolved` a `root_cause` or a `handover` ("specific":
   at least MIN_WORDS words and not in VAGUE).
6. metadata: the tree sets `applies_to`, `reviewed_at` (YYYY-MM-DD), `review_by` or
   `review_every_days`, and titled `sources`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.scripts.powershell import problems as powershell_problems

KNOWN_LANGUAGES = frozenset({"powershell", "cmd", "bash", "sh", "sonicos", "text"})
"""`text` is a console path or a form to fill in, shown as written; `sonicos` is the SonicOS
command line. A language outside this set is a typo or needs a rule here first."""

PLACEHOLDER = re.compile(r"\{\{\s*(?:input|client)\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}")
PLACEHOLDER_STAND_IN = "placeholder"
"""What a `{{input.x}}` becomes before parsing: one harmless bare word, valid both inside
quotes and where PowerShell or cmd expect an argument."""

# PowerShell's approved verbs that appear at the start of a cmdlet name (Get-Verb).
_VERBS = (
    "Add|Clear|Close|Copy|Enter|Exit|Find|Format|Get|Hide|Join|Lock|Move|New|Open|Optimize|Pop|"
    "Push|Redo|Remove|Rename|Reset|Resize|Search|Select|Set|Show|Skip|Split|Step|Switch|Undo|"
    "Unlock|Watch|Connect|Disconnect|Read|Receive|Send|Write|Backup|Checkpoint|Compare|Compress|"
    "Convert|ConvertFrom|ConvertTo|Dismount|Edit|Expand|Export|Group|Import|Initialize|Limit|"
    "Merge|Mount|Out|Publish|Restore|Save|Sync|Unpublish|Update|Approve|Assert|Build|Complete|"
    "Confirm|Deny|Deploy|Disable|Enable|Install|Invoke|Register|Request|Restart|Resume|Start|"
    "Stop|Submit|Suspend|Uninstall|Unregister|Wait|Debug|Measure|Ping|Repair|Resolve|Test|Trace|"
    "Block|Grant|Protect|Revoke|Unblock|Unprotect|Use"
)
CMDLET = re.compile(rf"(?:^|[|;&(]\s*)(?:{_VERBS})-[A-Z][A-Za-z0-9]+\b", re.MULTILINE)

LITERAL_EXAMPLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("a Microsoft example company (contoso)", r"contoso"),
        ("a Microsoft example company (fabrikam)", r"fabrikam"),
        ("a Microsoft example company (adatum)", r"adatum"),
        ("a Microsoft example company (northwind)", r"northwind"),
        ("a Microsoft example company", r"woodgrove|litware|tailspin"),
        ("an example domain", r"\bexample\.(?:com|org|net)\b|\.example\b"),
        ("an example mailbox (user@...)", r"\b(?:user|admin|shared)@"),
        ("a sample job name", r"\bJOB NAME\b"),
        ("a sample distinguished name", r"\bDC=\w+,\s*DC=\w+"),
        ("a sample host name", r"\b(?:proxy|esxi|rdsh|dc|fs|srv|printsrv)0\d\b|\\\\oldserver\b"),
        # Upper case only: `ServerName` is also a property (Get-SmbConnection).
        ("a sample server name", r"(?-i:\b(?:SERVERNAME|YOURSERVER|MYSERVER|SERVER01)\b)"),
        ("a sample domain name", r"\b(?:yourdomain|mydomain)\b|\bDOMAIN\\"),
        ("a documentation IP address (RFC 5737)", r"\b(?:192\.0\.2|198\.51\.100|203\.0\.113)\.\d"),
        ("a sample IP address", r"\b1\.2\.3\.4\b"),
        ("a sample recovery password", r"\b(\d)\1{5}-"),
        ("an all-zero GUID", r"\b0{8}-0{4}-0{4}-0{4}-0{12}\b"),
        ("a sample value (xxxx)", r"\bx{3,}\b"),
        # The trees' convention for a value the engineer supplies is {{input.x}} (asked by an
        # input step, filled in on copy); `<server>` would be pasted as written, and in cmd
        # and PowerShell `<` is a redirection.
        ("an angle-bracket placeholder (ask with an input step: {{input.x}})", r"<[A-Za-z][\w .:/-]*>"),
    )
)

RISKY: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE | re.MULTILINE))
    for label, pattern in (
        ("a restart", r"\bRestart-(?:Computer|Service)\b|\bStop-Computer\b"),
        ("a restart", r"\bshutdown(?:\.exe)?\s+[/-][rsg]\b"),
        ("a service stop", r"\bnet\s+stop\b|\bsc(?:\.exe)?\s+stop\b|\bStop-Service\b"),
        ("a user logoff", r"^\s*logoff\b|\bInvoke-RDUserLogoff\b"),
        ("a process kill", r"\btaskkill\b|\bStop-Process\b"),
        ("a delete", r"\bRemove-[A-Za-z]+\b"),
        ("a delete", r"(?:^|[&|]\s*)(?:del|erase)\s|\b(?:rd|rmdir)\s+/s\b"),
        ("a delete", r"\s/delete\b|\bvssadmin\s+(?:delete|resize)\b|\bwevtutil\s+cl\b"),
        ("a delete", r"\bmanage-bde\b.*\s-(?:delete|off)\b|\brm\s+-[a-z]*[rf]"),
        ("a reset", r"\bReset-[A-Za-z]+\b|\bClear-(?:Tpm|Disk)\b|\bFormat-Volume\b|\bInitialize-Disk\b"),
        ("a reset", r"\bnetsh\s+(?:winsock|int(?:erface)?\s+ip)\s+reset\b|/ResetBase\b"),
        ("a network drop", r"\bipconfig\s+/release\b"),
        ("a registry write", r"\breg(?:\.exe)?\s+(?:add|delete|import)\b|\bNew-ItemProperty\b"),
        ("a registry write", r"\bSet-ItemProperty\b[^\n]*\bHK(?:LM|CU|U|CR|CC)\b"),
        ("a replication setting", r"\brepadmin\s+/options\s+\S+\s+[+-]"),
        ("a failover", r"\bMove-Cluster[A-Za-z]*\b|\b(?:Start-VBR|Invoke-)[A-Za-z]*Failover\b"),
        ("a protection suspend", r"\b(?:Suspend|Disable)-BitLocker\b|\bmanage-bde\b.*-protectors\s+-disable"),
    )
)
"""What counts as risky: anything that restarts, stops, deletes, resets or rewrites a setting
an engineer cannot simply undo. Flushing a DNS cache, reading, or a `gpupdate` is not."""

DOCS_HOME_PAGES = frozenset(
    {
        "learn.microsoft.com/en-us",
        "learn.microsoft.com/en-us/docs",
        "learn.microsoft.com/en-us/troubleshoot",
        "support.microsoft.com/en-us",
        "docs.citrix.com/en-us",
        "support.citrix.com",
        "www.veeam.com/support.html",
        "www.veeam.com/documentation-guides-datasheets.html",
        "helpcenter.veeam.com/docs",
        "www.sonicwall.com/support",
        "www.sonicwall.com/support/technical-documentation",
        "sonicwall.com/support/technical-documentation",
        "www.fortinet.com/support",
    }
)
"""Sites' front doors: a link there makes the engineer search again for the page that backs
the step."""

VAGUE = frozenset({"unknown", "n/a", "na", "none", "tbd", "todo", "see notes", "various", "other", "-"})
MIN_WORDS = 4
"""A root cause or verification shorter than this says nothing specific ("Fixed it.")."""


@dataclass(frozen=True)
class Finding:
    tree: str
    node_id: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.tree} / {self.node_id}" if self.node_id else self.tree
        return f"{where}: [{self.rule}] {self.message}"


# --- rule 1: commands parse ------------------------------------------------------------------


def _stand_in(text: str) -> str:
    return PLACEHOLDER.sub(PLACEHOLDER_STAND_IN, text)


# What the rewrite below leaves alone: a comment (block, or from a `#` that starts a token to
# the end of the line) and a string (single-quoted with '' escapes, double with backticks).
_PS_KEEP = re.compile(r"<#.*?#>|(?<![\w\-])#[^\n]*|'(?:[^']|'')*'|\"(?:[^\"`]|`.)*\"", re.DOTALL)
_BARE_LIST_WORD = re.compile(
    r"(?<![\w$.*-])([A-Za-z_*][\w.*]*)(?=\s*,)|(?<=,)(\s*)([A-Za-z_*][\w.*]*)(?![\w(.*])"
)
_DIGIT_PARAMETER = re.compile(r"(?<=\s)-[A-Za-z]\w*\d\w*")
_MULTIPLIER = re.compile(r"(?<![\w.])(\d+)(KB|MB|GB|TB|PB)\b", re.IGNORECASE)
_MULTIPLIERS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}


def _quote_word(m: re.Match[str]) -> str:
    return f"'{m.group(1)}'" if m.group(1) else f"{m.group(2)}'{m.group(3)}'"


def _expand_multiplier(m: re.Match[str]) -> str:
    return str(int(m.group(1)) * _MULTIPLIERS[m.group(2).lower()])


def _digits_out(m: re.Match[str]) -> str:
    return re.sub(r"\d", "D", m.group(0))


def _around_grammar_gaps(code: str) -> str:
    """Rewrite, outside strings and comments, spellings the grammar refuses into ones it accepts.

    PowerShell reads both spellings of each pair as the same thing; the tree-sitter grammar
    (0.26) reports the first as an ERROR, which would hide every real error in the block:
    - a comma list of bare words in argument mode: `Select-Object Name, Id` becomes
      `Select-Object 'Name', 'Id'` (a bare argument is a string);
    - a number with a multiplier in arithmetic: `$_.Size/1GB` becomes `$_.Size/1073741824`;
    - a parameter name with a digit, which the grammar splits into a redirection:
      `-IPv4Address` becomes `-IPvDAddress` (a name's spelling is not syntax).
    """
    out, at = [], 0

    def fix(part: str) -> str:
        part = _BARE_LIST_WORD.sub(_quote_word, part)
        return _DIGIT_PARAMETER.sub(_digits_out, _MULTIPLIER.sub(_expand_multiplier, part))

    for string in _PS_KEEP.finditer(code):
        out.append(fix(code[at : string.start()]))
        out.append(string.group(0))
        at = string.end()
    out.append(fix(code[at:]))
    return "".join(out)


def _cmd_problems(text: str) -> list[str]:
    """cmd reads line by line: each line must close its double quotes; `#` is not a comment."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or re.match(r"(?i)^(?:rem\b|::)", stripped):
            continue
        if stripped.startswith("#"):
            out.append(f"line {number} starts with `#`, which cmd runs as a command; write REM")
        if line.count('"') % 2:
            out.append(f"line {number} leaves a double quote open")
    return out


def _shell_problems(text: str) -> list[str]:
    try:
        shlex.split(text, comments=True)
    except ValueError as error:
        return [f"does not tokenise as sh: {error}"]
    return []


def command_problems(language: str, text: str) -> list[str]:
    """Why this command cannot be pasted as written (empty when it can)."""
    if language not in KNOWN_LANGUAGES:
        return [f"language {language!r} is not one of {', '.join(sorted(KNOWN_LANGUAGES))}"]
    code = _stand_in(text)
    out: list[str] = []
    if language == "powershell":
        out += [f"PowerShell syntax error at {p}" for p in powershell_problems(_around_grammar_gaps(code))]
    elif language == "cmd":
        out += _cmd_problems(code)
    elif language in ("bash", "sh", "sonicos"):
        out += _shell_problems(code)
    if language in ("cmd", "bash", "sh", "sonicos"):
        cmdlets = [m.group(0).strip(" |;&(") for m in CMDLET.finditer(code)]
        if cmdlets:
            out.append(f"PowerShell cmdlet {cmdlets[0]!r} in a {language} block; mark it powershell")
    return out


# --- rule 2: no literal example values -----------------------------------------------------


def literal_examples(text: str) -> list[str]:
    """The documentation examples left in a command (placeholders are fine)."""
    code = PLACEHOLDER.sub("", text)
    found = (f"{label}: {m.group(0)!r}" for label, rule in LITERAL_EXAMPLES for m in rule.finditer(code))
    return list(dict.fromkeys(found))


# --- rule 3: risky commands carry a warning --------------------------------------------------


def risks(text: str) -> list[str]:
    """What in this command is risky, e.g. `a restart: 'Restart-Service'`."""
    return [f"{label}: {m.group(0).strip()!r}" for label, pattern in RISKY if (m := pattern.search(text))]


# --- rule 4: links are https and specific --------------------------------------------------

# A Markdown link `[text](url)`; a bare address in a body is what the engineer types or
# browses to (`https://{{input.gw_name}}`), not a reference, so it is not a link here.
_MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def link_problems(url: str) -> list[str]:
    parts = urlsplit(url.strip())
    if parts.scheme != "https":
        return [f"{url!r} is not https"]
    if not parts.netloc:
        return [f"{url!r} has no host"]
    path = parts.path.rstrip("/")
    if not path:
        return [f"{url!r} is a site's home page; link the page that backs this step"]
    if f"{parts.netloc.lower()}{path}".lower() in DOCS_HOME_PAGES:
        return [f"{url!r} is a documentation home page; link the page that backs this step"]
    return []


def urls_in_markdown(text: str) -> list[str]:
    return _MARKDOWN_LINK.findall(text or "")


# --- rule 5: resolutions state a root cause and a verification ------------------------------


def _specific(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip().rstrip(".").strip()
    return text.lower() not in VAGUE and len(text.split()) >= MIN_WORDS


def resolution_problems(node: dict[str, Any]) -> list[str]:
    outcome = node.get("outcome")
    cause, verification, handover = node.get("root_cause"), node.get("verification"), node.get("handover")
    out = []
    if outcome == "resolved":
        if not _specific(cause):
            out.append("a resolved ending needs a specific root_cause (what was wrong)")
        if not _specific(verification):
            out.append("a resolved ending needs a verification (how the fix was proven)")
    elif outcome == "escalated":
        if not _specific(cause):
            out.append('an escalation needs a root_cause (it may say "suspected ...")')
        if not _specific(handover):
            out.append("an escalation needs a handover")
    elif outcome == "unresolved":
        if not (_specific(cause) or _specific(handover)):
            out.append("an unresolved ending needs a root_cause or a handover")
    else:
        out.append(f"outcome {outcome!r} is not resolved, escalated or unresolved")
    return out


# --- rule 6 (starter library): review metadata ------------------------------------------------


def metadata_problems(tree: dict[str, Any]) -> list[str]:
    out = []
    if not tree.get("applies_to"):
        out.append("applies_to is empty: name the products and versions the tree was written for")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(tree.get("reviewed_at") or "")):
        out.append("reviewed_at (YYYY-MM-DD) is missing: when the content was checked against its sources")
    if not (tree.get("review_by") or tree.get("review_every_days")):
        out.append("set review_by or review_every_days")
    sources = tree.get("sources") or []
    if not sources:
        out.append("sources is empty: list the vendor pages the author checked")
    for source in sources:
        if not str(source.get("title") or "").strip():
            out.append(f"source {source.get('url')!r} has no title")
    return out


# --- the whole tree --------------------------------------------------------------------------


def _node_urls(node: dict[str, Any]) -> Iterator[str]:
    for link in node.get("links") or []:
        yield link.get("url") or ""
    for field in ("body", "help", "warning"):
        yield from urls_in_markdown(node.get(field) or "")


def check_tree(name: str, tree: dict[str, Any]) -> list[Finding]:
    """Every finding for one tree (empty when the tree passes)."""
    found: list[Finding] = []
    found += [Finding(name, None, "metadata", p) for p in metadata_problems(tree)]
    for source in tree.get("sources") or []:
        found += [Finding(name, None, "links", p) for p in link_problems(source.get("url") or "")]
    for node_id, node in (tree.get("nodes") or {}).items():
        node_risks = []
        for command in node.get("commands") or []:
            language, text = command.get("language") or "", command.get("text") or ""
            found += [Finding(name, node_id, "syntax", p) for p in command_problems(language, text)]
            if language != "text":
                found += [Finding(name, node_id, "examples", p) for p in literal_examples(text)]
                node_risks += risks(text)
        if node_risks and not (node.get("warning") or "").strip():
            found.append(Finding(name, node_id, "warning", f"{node_risks[0]} without a warning on the step"))
        for url in _node_urls(node):
            found += [Finding(name, node_id, "links", p) for p in link_problems(url)]
        if node.get("type") == "resolution":
            found += [Finding(name, node_id, "resolution", p) for p in resolution_problems(node)]
    return found
