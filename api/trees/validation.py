"""Is a tree complete and runnable? `validate_tree` lists every problem at once.

Drafts may be saved with problems; publishing requires none. Each `Problem` names the node
(or `None` for the tree itself), a stable snake_case `code` the editor can key on (see
`CODES`), and a message that says what is wrong and how to fix it.

Rules where DESIGN.md is silent, decided here:

- Actions must handle `done` and `failed`; `skipped` is optional, because some steps must
  not be skipped (take a backup first). The runner offers "skipped" only when
  `next.skipped` is set, and then its `log` sentence is required like any other answer's.
- Every answer offered needs a non-empty past-tense `log` sentence; exports are built
  from them.
- `{{input.x}}` is known at a step when some input node asking for `x` lies on at least one
  path from the start to that step (an input node's own `log` may use its own variable).
  On paths where it was not asked, the runner and the export show the labelled gap
  "<x: not entered>" (see `api.sessions.fold.fill`). `{{client.x}}` is always allowed: `name`
  and any other field of the client context; a session without that field shows
  "<client.x: not recorded>".
- `no_resolution_reachable` is reported once per stuck region, at the step where a path
  enters it (the start node, or a node with a predecessor from which a resolution is still
  reachable), not on every step after it, so one broken branch gives one problem.
- While `start` is missing or wrong, the checks that need a start (`unreachable`,
  `unknown_variable`) are skipped: fix the start first.
- Link URLs must be `https://` with a host; option ids must be non-empty and unique in their
  node; `root_cause` is optional; a handover is required for `escalated` only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from .models import (
    NODE_ID_PATTERN,
    NODE_TYPES,
    OUTCOMES,
    VARIABLE_NAME_PATTERN,
    ActionNode,
    ChoiceNode,
    InputNode,
    QuestionNode,
    ResolutionNode,
    TreeDraft,
)
from .variables import scan_placeholders


def quoted(value: Any) -> str:
    """A value as messages show it: JSON text, strings in double quotes. The editor's twin
    (`quoted` in pwa/src/editor/validate.ts) is JSON.stringify, so both word it alike."""
    return json.dumps(_as_js(value), ensure_ascii=False, separators=(",", ":"))


def _as_js(value: Any) -> Any:
    """Whole floats as integers, at any depth: JavaScript cannot tell 5.0 from 5."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_as_js(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_js(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Limits:
    """Every size limit on a tree, in one place (characters unless stated)."""

    title: int = 200
    description: int = 5_000
    category: int = 100
    tag: int = 50
    applies_to: int = 80  # one product version
    applies_to_entries: int = 20
    review_days: int = 3650  # the longest review interval
    body: int = 20_000
    help: int = 10_000
    warning: int = 2_000
    log: int = 1_000
    label: int = 200  # choice option labels and link titles
    option_id: int = 64
    command: int = 10_000
    url: int = 2_000
    summary: int = 5_000
    root_cause: int = 5_000
    verification: int = 5_000
    sources: int = 50  # pages checked for the whole tree
    handover: int = 10_000
    nodes: int = 2_000  # nodes per tree
    min_options: int = 2  # options per choice node
    max_options: int = 12


LIMITS = Limits()

CODES: dict[str, str] = {
    "not_an_object": "The tree is not a JSON object.",
    "invalid_field": "A field has the wrong type or shape.",
    "unknown_field": "A field the tree format does not have (often a typo).",
    "unknown_node_type": "A node's type is missing or not one of the five node types.",
    "invalid_tree_id": "The tree's _id is not tree:<slug>.",
    "invalid_outcome": "A resolution's outcome is missing or not resolved/escalated/unresolved.",
    "too_many_nodes": "The tree has more nodes than allowed.",
    "missing_start": "The tree has no start node.",
    "unknown_start": "The start names a node that does not exist.",
    "invalid_node_id": "A node id does not match ^[a-z0-9][a-z0-9_-]{0,63}$.",
    "empty_title": "A node (or the tree) has an empty title.",
    "empty_label": "A choice option or a link has an empty label/title.",
    "empty_log": "An answer has no log sentence.",
    "missing_next": "An answer does not say which node comes next.",
    "dangling_next": "An answer leads to a node that does not exist.",
    "unreachable": "No path from the start leads to this node.",
    "no_resolution_reachable": "From this node no resolution can be reached.",
    "choice_option_count": "A choice has fewer than 2 or more than 12 options.",
    "empty_option_id": "A choice option has no id.",
    "duplicate_option_id": "Two options of one choice share an id.",
    "invalid_variable_name": "An input's variable or save_to_client is not a valid name.",
    "unknown_variable": "{{input.x}} where no input node asks for x before this step.",
    "malformed_placeholder": "A '{{' that is not a well-formed {{input.x}} / {{client.x}}.",
    "text_too_long": "A text is longer than its limit.",
    "link_not_https": "A link URL is missing or not https.",
    "empty_command": "A command has no text.",
    "missing_summary": "A resolution has no summary.",
    "missing_handover": "An escalation has no handover.",
    "invalid_review_date": "The review date is not a calendar date written YYYY-MM-DD.",
    "invalid_review_interval": "The review interval is not a whole number of days from 1 to 3650.",
    "review_date_and_interval": "The tree has both a review date and a review interval.",
    "invalid_applies_to": "An applies-to entry is empty or repeated, or there are too many.",
    "invalid_script_ref": "An action's script id or a parameter name is not well-formed.",
}
"""Every code `validate_tree` can return, with its meaning. Codes are stable API."""


class Problem(BaseModel):
    """One thing to fix. `node_id` is None for problems of the tree as a whole."""

    model_config = ConfigDict(frozen=True)

    node_id: str | None
    code: str
    message: str


class ValidationResult(BaseModel):
    """The answer of `POST /api/v1/trees/validate`: `{valid, problems}`."""

    valid: bool
    problems: list[Problem]


_NODE_ID_RE = re.compile(NODE_ID_PATTERN)
# The script library's id and parameter name forms (api/scripts/models.py), written here so
# the editor's twin can copy them; tests/trees/test_script_refs.py keeps them equal.
_SCRIPT_ID_RE = re.compile(r"^script:[a-z0-9][a-z0-9_-]{0,63}$")
_PARAM_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_VARIABLE_RE = re.compile(VARIABLE_NAME_PATTERN)
_NODE_MODELS: dict[str, type[BaseModel]] = {
    "question": QuestionNode,
    "choice": ChoiceNode,
    "action": ActionNode,
    "input": InputNode,
    "resolution": ResolutionNode,
}
# Which answers each node type must / may offer; a missing optional answer is not offered.
_REQUIRED_ANSWERS = {"question": ("yes", "no"), "action": ("done", "failed")}
_OPTIONAL_ANSWERS = {"question": (), "action": ("skipped",)}
# Answers, fields and settings are named as the editor labels them, so a message says where
# to click rather than which JSON field is wrong: (answer, its log sentence, its target box).
_ANSWER_NAMES = {
    a: (f"The answer {label}", f"The log sentence of {label}", f"{label} leads to")
    for a, label in (
        ("yes", "Yes"),
        ("no", "No"),
        ("done", "Done"),
        ("failed", "Failed"),
        ("skipped", "Skipped"),
    )
}
_FORMAT_HINT = "See 'Tree format (v1)' in DESIGN.md for the expected shape."


def _blank(value: Any) -> bool:
    """Missing or whitespace-only text. A value of the wrong type is not blank: the shape
    check already reported it, and reporting it twice would only add noise."""
    return value is None or (value.__class__ is str and not value.strip())


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _node_field(doc: dict[str, Any], node_id: str | None, field: str) -> Any:
    """A field of a node as the document has it: None when the node or the field is missing."""
    if node_id is None:
        return None
    return _as_dict(_as_dict(doc.get("nodes")).get(node_id)).get(field)


_REVIEW_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def is_review_date(text: str) -> bool:
    """A calendar date written YYYY-MM-DD (the only form `review_by` takes)."""
    if not _REVIEW_DATE_RE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- shape problems (from the pydantic models) ----------------------------------------------


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _allowed_fields(model: type[BaseModel] | None, path: tuple[Any, ...]) -> list[str]:
    """Field names allowed at the object that holds the last element of `path`."""
    for part in path[:-1]:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        model = _model_in(field.annotation) if field else None
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _shape_problems(doc: dict[str, Any]) -> list[Problem]:
    try:
        TreeDraft.model_validate(doc)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    else:
        return []
    problems = []
    for err in errors:
        loc, kind, msg = tuple(err["loc"]), err["type"], err["msg"]
        node_id, node_type, path = None, None, loc
        if len(loc) >= 2 and loc[0] == "nodes":
            node_id, path = str(loc[1]), loc[2:]
            if path and path[0] in NODE_TYPES:
                node_type, path = path[0], path[1:]
        where = f"Field `{_dotted(path)}`" if path else ("Node" if node_id else "The tree")
        if kind in ("union_tag_not_found", "union_tag_invalid"):
            got = _node_field(doc, node_id, "type")
            problems.append(
                Problem(
                    node_id=node_id,
                    code="unknown_node_type",
                    message=(
                        f"Node type {quoted(got)} is not known. "
                        if got is not None
                        else "Node has no `type`. "
                    )
                    + f"Set `type` to one of: {', '.join(NODE_TYPES)}.",
                )
            )
        elif kind == "extra_forbidden":
            model = (_NODE_MODELS.get(node_type) if node_type else None) if node_id else TreeDraft
            allowed = _allowed_fields(model, path)
            problems.append(
                Problem(
                    node_id=node_id,
                    code="unknown_field",
                    message=f"{where} is not part of the tree format. Remove it or fix its spelling"
                    + (f"; allowed here: {', '.join(allowed)}." if allowed else "."),
                )
            )
        elif path and path[-1] == "outcome" and node_type == "resolution":
            got = _node_field(doc, node_id, "outcome")
            problems.append(
                Problem(
                    node_id=node_id,
                    code="invalid_outcome",
                    message=f"Outcome {quoted(got)} is not allowed. Use one of: {', '.join(OUTCOMES)}.",
                )
            )
        elif loc == ("_id",):
            problems.append(
                Problem(
                    node_id=None,
                    code="invalid_tree_id",
                    message=f"The tree id {quoted(doc.get('_id'))} is malformed. Use `tree:` followed by "
                    "a slug of lowercase letters, digits, _ and -, e.g. "
                    "`tree:citrix-vda-registration`.",
                )
            )
        else:
            hint = {
                "string_type": "Enter text here (a JSON string).",
                "list_type": "Use a list ([...]) here.",
                "dict_type": "Use an object ({...}) here.",
                "model_type": "Use an object ({...}) here.",
                "model_attributes_type": "Use an object ({...}) here.",
                "bool_type": "Use true or false here.",
                "literal_error": "Use one of the values listed.",
                "missing": "Add it.",
            }.get(kind, _FORMAT_HINT)
            problems.append(Problem(node_id=node_id, code="invalid_field", message=f"{where}: {msg}. {hint}"))
    return problems


# --- per-node checks -----------------------------------------------------------------------


class _Checker:
    """Collects problems and the graph while walking the nodes once."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.nodes: dict[str, Any] = _as_dict(doc.get("nodes"))
        self.problems: list[Problem] = []
        self.index = {node_id: i for i, node_id in enumerate(self.nodes)}
        self.succ: list[list[int]] = [[] for _ in self.nodes]
        # Nodes we cannot read (not an object, unknown type) count as reaching a resolution:
        # their own problem is reported, and guessing about their answers would only add
        # noise upstream.
        self.is_resolution = [
            not (isinstance(node, dict) and node.get("type") in NODE_TYPES) for node in self.nodes.values()
        ]
        self.gen_var: list[str | None] = [None] * len(self.nodes)
        # (node index, field, variable name, usable own variable) for every {{input.x}}
        self.input_refs: list[tuple[int, str, str, bool]] = []

    def add(self, node_id: str | None, code: str, message: str) -> None:
        self.problems.append(Problem(node_id=node_id, code=code, message=message))

    def text(self, node_id: str | None, field: str, value: Any, limit: int, *, own_var: bool = False) -> None:
        """Length and placeholder checks for one text field (`field`: its name in the editor,
        as a message starts it, e.g. "The body")."""
        if value.__class__ is not str or not value:
            return
        if len(value) > limit:
            self.add(
                node_id,
                "text_too_long",
                f"{field} has {len(value):,} characters; the limit is {limit:,}. "
                "Shorten it, or move detail into the body, help or links.",
            )
        if "{{" not in value:
            return
        good, bad = scan_placeholders(value)
        for item in bad:
            self.add(
                node_id,
                "malformed_placeholder",
                f"{field} contains {quoted(item.raw)}, which is not a valid placeholder: "
                f"{item.reason}. Write {{{{input.NAME}}}} or {{{{client.NAME}}}}.",
            )
        if node_id is None:
            return
        for ph in good:
            if ph.namespace == "input":
                self.input_refs.append((self.index[node_id], field, ph.name, own_var))

    def edge(self, node_id: str, what: str, target: Any, box: str, *, required: bool = True) -> None:
        """Record one answer's `next` (`what` names the answer, `box` the editor's field for
        its target); report it missing or dangling."""
        if target.__class__ is str and target in self.index:
            self.succ[self.index[node_id]].append(self.index[target])
            return
        if _blank(target):
            if required:
                self.add(
                    node_id,
                    "missing_next",
                    f"{what} does not lead to any step yet. Choose the next step under "
                    f'"{box}", or drag from its dot on the graph onto a step.',
                )
            return
        if isinstance(target, str):  # another type: a shape problem already says so
            self.add(
                node_id,
                "dangling_next",
                f"{what} leads to {quoted(target)}, which is not a step in this tree (deleted "
                f'or renamed?). Choose an existing step under "{box}", or create a step '
                f"with the id {quoted(target)}.",
            )

    def log(self, node_id: str, field: str, value: Any, *, own_var: bool = False) -> None:
        """Require and check one answer's past-tense log sentence."""
        if (
            value.__class__ is str
            and "{{" not in value
            and len(value) <= LIMITS.log
            and not value.isspace()
            and value
        ):
            return  # the common case, kept cheap for large trees
        if _blank(value):
            self.add(
                node_id,
                "empty_log",
                f"{field} is empty. Write what the engineer did, in the past tense, e.g. "
                '"Restarted the print spooler.": the exported notes are built from '
                "these sentences.",
            )
        self.text(node_id, field, value, LIMITS.log, own_var=own_var)

    # -- the walk ------------------------------------------------------------------------

    def check_tree_fields(self) -> None:
        doc = self.doc
        if _blank(doc.get("title")):
            self.add(
                None,
                "empty_title",
                "The tree has no title. Name the symptom an engineer "
                'would search for, e.g. "Citrix VDA Not Registering".',
            )
        self.text(None, "The tree title", doc.get("title"), LIMITS.title)
        self.text(None, "The description", doc.get("description"), LIMITS.description)
        self.text(None, "The category", doc.get("category"), LIMITS.category)
        for i, tag in enumerate(_as_list(doc.get("tags"))):
            self.text(None, f"Tag {i + 1}", tag, LIMITS.tag)
        self.check_review()
        self.check_applies_to()
        self.check_sources()
        if len(self.nodes) > LIMITS.nodes:
            self.add(
                None,
                "too_many_nodes",
                f"The tree has {len(self.nodes):,} nodes; the limit is {LIMITS.nodes:,}. "
                "Split it into smaller trees, one per symptom.",
            )

    def check_review(self) -> None:
        """The review settings (tree freshness): a real date, a sensible interval, not both."""
        by, every = self.doc.get("review_by"), self.doc.get("review_every_days")
        if by.__class__ is str and not is_review_date(by):
            self.add(
                None,
                "invalid_review_date",
                f"Review by {quoted(by)} is not a date. Write it as YYYY-MM-DD, e.g. 2027-06-30.",
            )
        if every.__class__ is int and not 1 <= every <= LIMITS.review_days:
            self.add(
                None,
                "invalid_review_interval",
                f"Review every {every} days is out of range. Use a whole number of days from 1 to "
                f"{LIMITS.review_days}.",
            )
        reviewed = self.doc.get("reviewed_at")
        if reviewed.__class__ is str and not is_review_date(reviewed):
            self.add(
                None,
                "invalid_review_date",
                f"Content reviewed on {quoted(reviewed)} is not a date. Write it as YYYY-MM-DD, "
                "e.g. 2026-12-03.",
            )
        if by is not None and every is not None:
            self.add(
                None,
                "review_date_and_interval",
                "The tree has both a review date and a review interval. Keep one: a fixed date, or "
                "every N days after each publish or review.",
            )

    def check_applies_to(self) -> None:
        entries = _as_list(self.doc.get("applies_to"))
        if len(entries) > LIMITS.applies_to_entries:
            self.add(
                None,
                "invalid_applies_to",
                f"The tree lists {len(entries)} product versions under Applies to; the limit is "
                f"{LIMITS.applies_to_entries}. Keep the versions engineers actually meet.",
            )
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            if entry.__class__ is not str:
                continue
            key = entry.strip().lower()
            if not key:
                self.add(
                    None,
                    "invalid_applies_to",
                    f"Applies to, entry {i + 1} is empty. Remove it or name a product version, "
                    'e.g. "SonicOS 7.x".',
                )
            elif key in seen:
                self.add(
                    None,
                    "invalid_applies_to",
                    f"Applies to, entry {i + 1} repeats {quoted(entry)}. Remove the copy.",
                )
            seen.add(key)
            self.text(None, f"Applies to, entry {i + 1}", entry, LIMITS.applies_to)

    def check_start(self) -> int | None:
        start = self.doc.get("start")
        if _blank(start):
            self.add(
                None,
                "missing_start",
                "The tree has no first step. Choose the step an "
                'engineer should see first under "First step" in the tree settings.',
            )
            return None
        if not isinstance(start, str):
            return None
        if start not in self.index:
            self.add(
                None,
                "unknown_start",
                f"The first step is {quoted(start)}, which is not a step "
                'in this tree. Choose an existing step under "First step" in the tree '
                "settings.",
            )
            return None
        return self.index[start]

    def check_node(self, node_id: str, node: Any) -> None:
        if not _NODE_ID_RE.match(node_id):
            self.add(
                node_id,
                "invalid_node_id",
                f"Node id {quoted(node_id)} is not allowed. Use 1 to 64 lowercase letters, digits, "
                "_ and -, starting with a letter or digit, e.g. `check-dns`.",
            )
        if not isinstance(node, dict):
            return
        kind = node.get("type") if isinstance(node.get("type"), str) else None
        if _blank(node.get("title")):
            self.add(
                node_id,
                "empty_title",
                "The step has no title. Say in a few words what the engineer checks or does.",
            )
        self.text(node_id, "The title", node.get("title"), LIMITS.title)
        self.text(node_id, "The body", node.get("body"), LIMITS.body)
        self.text(node_id, "The help", node.get("help"), LIMITS.help)
        self.text(node_id, "The warning", node.get("warning"), LIMITS.warning)
        self.check_links(node_id, node)
        self.check_commands(node_id, node)
        if kind == "action":
            self.check_script(node_id, node)
        if kind in _REQUIRED_ANSWERS:
            self.check_answers(node_id, node, kind)
        elif kind == "choice":
            self.check_choice(node_id, node)
        elif kind == "input":
            self.check_input(node_id, node)
        elif kind == "resolution":
            self.check_resolution(node_id, node)
        else:
            self.follow_unknown(node_id, node)

    def follow_unknown(self, node_id: str, node: dict[str, Any]) -> None:
        """Keep the edges (and variable) of a node whose type is unknown (already reported),
        so a typo in one `type` does not also make every node after it look unreachable."""
        nxt = node.get("next")
        targets = list(nxt.values()) if isinstance(nxt, dict) else [nxt]
        targets += [o.get("next") for o in _as_list(node.get("options")) if isinstance(o, dict)]
        here = self.succ[self.index[node_id]]
        here.extend(self.index[t] for t in targets if t.__class__ is str and t in self.index)
        variable = node.get("variable")
        if variable.__class__ is str and _VARIABLE_RE.match(variable):
            self.gen_var[self.index[node_id]] = variable

    def check_sources(self) -> None:
        """The tree's sources are links too (title and https), named "Source n" in messages."""
        sources = _as_list(self.doc.get("sources"))
        if len(sources) > LIMITS.sources:
            self.add(
                None,
                "text_too_long",
                f"The tree lists {len(sources)} sources; the limit is {LIMITS.sources}. Keep the "
                "pages the steps rely on.",
            )
        self.check_links(None, {"links": sources}, what="Source")

    def check_links(self, node_id: str | None, node: dict[str, Any], what: str = "Link") -> None:
        for i, link in enumerate(_as_list(node.get("links"))):
            if not isinstance(link, dict):
                continue
            title, url = link.get("title"), link.get("url")
            if _blank(title):
                self.add(
                    node_id,
                    "empty_label",
                    f"{what} {i + 1} has no title. Say what the "
                    'engineer will find there, e.g. "Microsoft: DNS troubleshooting".',
                )
            self.text(node_id, f"The title of {what.lower()} {i + 1}", title, LIMITS.label)
            if isinstance(url, str) or url is None:
                try:
                    parts = urlsplit((url or "").strip())
                    ok = parts.scheme == "https" and bool(parts.hostname)
                except ValueError:
                    ok = False
                if not ok:
                    self.add(
                        node_id,
                        "link_not_https",
                        f"{what} {i + 1} ({quoted(url)}) is not an https:// address. Use the "
                        "https address of the page (open it in a browser and copy it).",
                    )
                self.text(node_id, f"The URL of {what.lower()} {i + 1}", url, LIMITS.url)

    def check_commands(self, node_id: str, node: dict[str, Any]) -> None:
        for i, command in enumerate(_as_list(node.get("commands"))):
            if not isinstance(command, dict):
                continue
            if _blank(command.get("text")):
                self.add(
                    node_id,
                    "empty_command",
                    f"Command {i + 1} has no text. Enter the command to run, or remove the empty command.",
                )
            self.text(node_id, f"Command {i + 1}", command.get("text"), LIMITS.command)

    def check_script(self, node_id: str, node: dict[str, Any]) -> None:
        """The form of an action's script reference. Whether the script exists and takes
        these parameters depends on the tenant's library: `api.trees.script_refs` checks that."""
        ref = node.get("script")
        if not isinstance(ref, dict):
            return
        script_id = ref.get("id")
        if script_id.__class__ is str and not _SCRIPT_ID_RE.fullmatch(script_id):
            self.add(
                node_id,
                "invalid_script_ref",
                f"The script {quoted(script_id)} is not a script id. Pick a script from the library.",
            )
        for name, value in _as_dict(ref.get("parameters")).items():
            if not _PARAM_NAME_RE.fullmatch(name):
                self.add(
                    node_id,
                    "invalid_script_ref",
                    f"The script parameter {quoted(name)} is not a parameter name. Map the "
                    "script's own parameters only.",
                )
                continue
            self.text(node_id, f"The value of script parameter {name}", value, LIMITS.command)

    def check_answers(self, node_id: str, node: dict[str, Any], kind: str) -> None:
        nxt, log = node.get("next"), node.get("log")
        nxt_ok = nxt is None or isinstance(nxt, dict)
        log_ok = log is None or isinstance(log, dict)
        nxt, log = _as_dict(nxt), _as_dict(log)
        for answer in _REQUIRED_ANSWERS[kind]:
            what, field, box = _ANSWER_NAMES[answer]
            self.edge(node_id, what, nxt.get(answer), box, required=nxt_ok)
            if log_ok:
                self.log(node_id, field, log.get(answer))
        for answer in _OPTIONAL_ANSWERS[kind]:
            what, field, box = _ANSWER_NAMES[answer]
            if not _blank(nxt.get(answer)):
                self.edge(node_id, what, nxt.get(answer), box)
                if log_ok:
                    self.log(node_id, field, log.get(answer))
            else:
                # Not offered; its sentence may still be drafted, so check only its text.
                self.text(node_id, field, log.get(answer), LIMITS.log)

    def check_choice(self, node_id: str, node: dict[str, Any]) -> None:
        options = node.get("options")
        if options is not None and not isinstance(options, list):
            return
        options = options or []
        if not LIMITS.min_options <= len(options) <= LIMITS.max_options:
            self.add(
                node_id,
                "choice_option_count",
                f"The choice has {len(options)} option(s); it needs "
                f"{LIMITS.min_options} to {LIMITS.max_options}. "
                + (
                    "Add options, or use a yes/no question for a single check."
                    if len(options) < LIMITS.min_options
                    else "Merge similar options or split the step in two."
                ),
            )
        seen: set[str] = set()
        for i, option in enumerate(options):
            if not isinstance(option, dict):
                continue
            option_id = option.get("id")
            name = f"Option {i + 1}"
            if _blank(option_id):
                self.add(
                    node_id,
                    "empty_option_id",
                    f"Option {i + 1} has no id. Give it a short id, unique in this step, e.g. `event-1002`.",
                )
            elif isinstance(option_id, str):
                if option_id in seen:
                    self.add(
                        node_id,
                        "duplicate_option_id",
                        f"Two options have the id {quoted(option_id)}; sessions record the id, "
                        "so they could not be told apart. Rename one of them.",
                    )
                seen.add(option_id)
                if len(option_id) > LIMITS.option_id:
                    self.add(
                        node_id,
                        "text_too_long",
                        f"Option id {quoted(option_id[:20])}... has {len(option_id)} characters; "
                        f"the limit is {LIMITS.option_id}. Use a shorter id.",
                    )
            if _blank(option.get("label")):
                self.add(
                    node_id,
                    "empty_label",
                    f"Option {i + 1} has no label. Write the answer as the engineer will see it.",
                )
            self.text(node_id, f"The label of option {i + 1}", option.get("label"), LIMITS.label)
            self.edge(node_id, name, option.get("next"), f"{name} leads to")
            self.log(node_id, f"The log sentence of option {i + 1}", option.get("log"))

    def check_input(self, node_id: str, node: dict[str, Any]) -> None:
        variable = node.get("variable")
        if _blank(variable) or (isinstance(variable, str) and not _VARIABLE_RE.match(variable)):
            self.add(
                node_id,
                "invalid_variable_name",
                (
                    "The input does not name its value. "
                    if _blank(variable)
                    else f"The variable {quoted(variable)} is not a usable name. "
                )
                + 'Under "Variable", name the value so later steps can use it as '
                "{{input.NAME}}: letters, digits and _, not starting with a digit, e.g. "
                "vda_name.",
            )
        elif isinstance(variable, str):
            self.gen_var[self.index[node_id]] = variable
        save = node.get("save_to_client")
        if isinstance(save, str) and not _VARIABLE_RE.match(save):
            self.add(
                node_id,
                "invalid_variable_name",
                f'"Save to client field" is {quoted(save)}, which is not a valid client field '
                "name. Use letters, digits and _, e.g. vdas, or clear it.",
            )
        self.edge(node_id, "The input", node.get("next"), "Continue leads to")
        self.log(node_id, "The log sentence", node.get("log"), own_var=True)

    def check_resolution(self, node_id: str, node: dict[str, Any]) -> None:
        self.is_resolution[self.index[node_id]] = True
        if "outcome" not in node or node.get("outcome") is None:
            self.add(
                node_id,
                "invalid_outcome",
                'The resolution has no outcome. Choose Resolved, Escalated or Unresolved under "Outcome".',
            )
        if _blank(node.get("summary")):
            self.add(
                node_id,
                "missing_summary",
                "The resolution has no summary. Under "
                '"Summary", say how the case ends; it opens the exported notes.',
            )
        if node.get("outcome") == "escalated" and _blank(node.get("handover")):
            self.add(
                node_id,
                "missing_handover",
                "An escalation needs a handover. Under "
                '"Handover", write what the next tier must know and what was already '
                "ruled out.",
            )
        self.text(node_id, "The summary", node.get("summary"), LIMITS.summary)
        self.text(node_id, "The root cause", node.get("root_cause"), LIMITS.root_cause)
        self.text(node_id, "The verification", node.get("verification"), LIMITS.verification)
        self.text(node_id, "The handover", node.get("handover"), LIMITS.handover)

    # -- graph passes (each linear in nodes + edges) ---------------------------------------

    def reachable_from(self, start: int) -> list[bool]:
        seen = [False] * len(self.succ)
        seen[start] = True
        stack = [start]
        while stack:
            for v in self.succ[stack.pop()]:
                if not seen[v]:
                    seen[v] = True
                    stack.append(v)
        return seen

    def reaches_resolution(self) -> list[bool]:
        pred: list[list[int]] = [[] for _ in self.succ]
        for u, targets in enumerate(self.succ):
            for v in targets:
                pred[v].append(u)
        ok = list(self.is_resolution)
        stack = [i for i, r in enumerate(ok) if r]
        while stack:
            for u in pred[stack.pop()]:
                if not ok[u]:
                    ok[u] = True
                    stack.append(u)
        return ok

    def check_graph(self, start: int | None) -> None:
        ids = list(self.nodes)
        reach: list[bool] | None = None
        if start is not None:
            reach = self.reachable_from(start)
            for i, seen in enumerate(reach):
                if not seen:
                    self.add(
                        ids[i],
                        "unreachable",
                        f"No path from the first step {quoted(ids[start])} leads here. Connect "
                        "an answer of another step to it, or delete it.",
                    )
        ok = self.reaches_resolution()
        entered_from_good = [False] * len(ids)
        has_pred = [False] * len(ids)
        for u, targets in enumerate(self.succ):
            for v in targets:
                has_pred[v] = True
                if ok[u] and (reach is None or reach[u]):
                    entered_from_good[v] = True
        for i in range(len(ids)):
            if ok[i]:
                continue
            if reach is not None:
                report = reach[i] and (i == start or entered_from_good[i])
            else:
                report = entered_from_good[i] or not has_pred[i]
            if report:
                self.add(
                    ids[i],
                    "no_resolution_reachable",
                    "No resolution can be reached from this step: every path from here "
                    "stops at an answer that leads nowhere, or loops without a way out. "
                    "Lead at least one answer (here or further on) to a resolution step.",
                )
        if reach is not None:
            self.check_variables(reach)

    def check_variables(self, reach: list[bool]) -> None:
        if not self.input_refs:
            return
        ids = list(self.nodes)
        bits: dict[str, int] = {}
        gen = [0] * len(ids)
        for i, var in enumerate(self.gen_var):
            if var is not None and reach[i]:
                gen[i] = 1 << bits.setdefault(var, len(bits))
        available = self._may_define(reach, gen)
        defined_anywhere: dict[str, list[str]] = {}
        for i, var in enumerate(self.gen_var):
            if var is not None:
                defined_anywhere.setdefault(var, []).append(ids[i])
        for i, field, name, own in self.input_refs:
            if not reach[i]:
                continue  # already reported as unreachable; no path means no variables
            avail = available[i] | (gen[i] if own else 0)
            if name in bits and avail >> bits[name] & 1:
                continue
            where = defined_anywhere.get(name)
            if where:
                hint = (
                    f"It is asked only in {', '.join(map(quoted, where[:3]))}, which no path "
                    "passes before this step. Move that input earlier, or add one on the "
                    "way here."
                )
            else:
                known = sorted(defined_anywhere)
                hint = (
                    f"No input step asks for {name}. Add an input step with the variable "
                    f"{name} before this step, or fix the name"
                    + (f" (known: {', '.join(known[:10])})." if known else ".")
                )
            self.add(
                ids[i],
                "unknown_variable",
                f"{field} uses {{{{input.{name}}}}}, which is not known here. {hint}",
            )

    def _may_define(self, reach: list[bool], gen: list[int]) -> list[int]:
        """Bitset per node of the variables asked on at least one path from the start to it.

        Linear: strongly connected components (iterative Tarjan) in topological order, so
        each node and edge is looked at a constant number of times. Inside a cycle every
        node can be reached from every other, so the cycle's own inputs count everywhere in it.
        """
        n = len(self.succ)
        index = [-1] * n
        low = [0] * n
        on_stack = [False] * n
        comp = [-1] * n
        comps: list[list[int]] = []
        stack: list[int] = []
        counter = 0
        for root in range(n):
            if index[root] != -1 or not reach[root]:
                continue
            work = [(root, 0)]
            while work:
                v, pos = work[-1]
                if pos == 0:
                    index[v] = low[v] = counter
                    counter += 1
                    stack.append(v)
                    on_stack[v] = True
                targets = self.succ[v]
                if pos < len(targets):
                    work[-1] = (v, pos + 1)
                    w = targets[pos]
                    if index[w] == -1:
                        work.append((w, 0))
                    elif on_stack[w]:
                        low[v] = min(low[v], index[w])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[v])
                if low[v] == index[v]:
                    members = []
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        comp[w] = len(comps)
                        members.append(w)
                        if w == v:
                            break
                    comps.append(members)
        pred: list[list[int]] = [[] for _ in range(n)]
        for u in range(n):
            if reach[u]:
                for v in self.succ[u]:
                    pred[v].append(u)
        inn = [0] * n
        out = [0] * n
        # Tarjan emits components sinks first; walk them sources first.
        for c in range(len(comps) - 1, -1, -1):
            members = comps[c]
            acc = 0
            cyclic = len(members) > 1 or members[0] in self.succ[members[0]]
            for u in members:
                for p in pred[u]:
                    if comp[p] != c:
                        acc |= out[p]
                if cyclic:
                    acc |= gen[u]
            for u in members:
                inn[u] = acc
                out[u] = acc | gen[u]
        return inn


def _node_order(problems: list[Problem], ids: dict[str, int]) -> list[Problem]:
    # Tree-level problems first, then node by node in the tree's order, so an editor can
    # show each node's problems together; within a node, the order they were found.
    return sorted(problems, key=lambda p: -1 if p.node_id is None else ids.get(p.node_id, -1))


def validate_tree(doc: Any) -> list[Problem]:
    """Every problem that keeps `doc` (a tree document, as a dict) from being published.

    Never raises for any input, however malformed: a wrong type becomes a problem. An empty
    list means the tree is valid. Pass documents read from storage through
    `api.trees.migrations.migrate_tree` first; this checks the current `schema_version`.
    See `CODES` for the codes and the module docstring for the rules DESIGN.md leaves open.
    """
    if not isinstance(doc, dict):
        return [
            Problem(
                node_id=None,
                code="not_an_object",
                message=f"A tree must be a JSON object, not {type(doc).__name__}. "
                'Send the tree document itself ({"type": "tree", ...}).',
            )
        ]
    checker = _Checker(doc)
    checker.problems.extend(_shape_problems(doc))
    checker.check_tree_fields()
    start = checker.check_start()
    for node_id, node in checker.nodes.items():
        if isinstance(node_id, str):
            checker.check_node(node_id, node)
    checker.check_graph(start)
    return _node_order(checker.problems, checker.index)


def validation_result(doc: Any) -> ValidationResult:
    """`validate_tree` wrapped as the validate endpoint's answer."""
    problems = validate_tree(doc)
    return ValidationResult(valid=not problems, problems=problems)
