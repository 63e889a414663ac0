"""The tree format (v1) as pydantic models: the one description of a tree's *shape*.

These models accept drafts: an author may save a tree that is not finished yet (a question
with only a `yes` branch, a resolution without a summary, an empty title). What they refuse
is garbage: a field of the wrong type, an unknown field (usually a typo such as `nxt`), an
unknown node type, an answer key a node type does not have (`next.maybe` on a question).
Whether a tree is *complete and runnable* is the job of `api.trees.validation.validate_tree`,
which lists every problem at once instead of stopping at the first.

The JSON Schemas in `design_docs/schemas/` are generated from these models by
`export_schemas`; a test fails when the committed files drift from the models. After
changing a model, regenerate them with `python -m api.trees.models`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

TREE_SCHEMA_VERSION: Final = 1
"""The `schema_version` this code writes. Older documents are upgraded on read by
`api.trees.migrations.migrate_tree`; newer ones are refused."""

NODE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""Node ids: lowercase, digits, `_` and `-`, at most 64 characters (they appear in URLs,
events and exports)."""

TREE_SLUG_PATTERN = r"[a-z0-9][a-z0-9_-]{0,63}"
TREE_ID_PATTERN = rf"^tree:{TREE_SLUG_PATTERN}$"
TREE_VERSION_ID_PATTERN = rf"^treever:{TREE_SLUG_PATTERN}:[1-9][0-9]*$"

VARIABLE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
"""Names usable after `input.` or `client.` in a placeholder, and in `variable` /
`save_to_client`."""

OUTCOMES: tuple[str, ...] = ("resolved", "escalated", "unresolved")
NODE_TYPES: tuple[str, ...] = ("question", "choice", "action", "input", "resolution")

# CouchDB adds these to documents it returns (`?conflicts=true`, `?revs=true`, ...). They
# are metadata about the document, never content, and CouchDB refuses any other
# underscore field on write, so dropping them on read cannot lose an author's work.
_COUCH_METADATA = frozenset(
    {
        "_deleted",
        "_attachments",
        "_conflicts",
        "_deleted_conflicts",
        "_revisions",
        "_revs_info",
        "_local_seq",
    }
)


def tree_doc_id(slug: str) -> str:
    """The `_id` of the tree with this slug: `tree:<slug>`."""
    return f"tree:{slug}"


def tree_slug(tree_id: str) -> str:
    """The slug part of a tree `_id` (`tree:citrix-vda` -> `citrix-vda`)."""
    return tree_id.split(":", 1)[1] if tree_id.startswith("tree:") else tree_id


def tree_version_doc_id(tree_id_or_slug: str, version: int) -> str:
    """The `_id` of a published version: `treever:<slug>:<n>`."""
    return f"treever:{tree_slug(tree_id_or_slug)}:{version}"


class _Shape(BaseModel):
    # strict: "1" is not 1 and 5 is not "5"; a wrong type is the author's (or a client's)
    # mistake that should be shown, not silently coerced.
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True)


# --- common parts ---------------------------------------------------------------------------


class Link(_Shape):
    """A reference for the engineer (vendor article, KB). Must be https to be valid."""

    title: str = ""
    url: str = ""


class Command(_Shape):
    """A command the engineer can copy, e.g. PowerShell. May contain placeholders."""

    language: str = Field("", description="e.g. powershell, cmd, bash, sql, text")
    text: str = ""


class Position(_Shape):
    """Where the visual editor draws the node. Has no meaning for a session."""

    x: float = 0.0
    y: float = 0.0

    @field_validator("x", "y", mode="before")
    @classmethod
    def _ints_are_numbers(cls, value: Any) -> Any:
        # JSON has one number type; strict mode would otherwise refuse `"x": 10`.
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value


class _NodeBase(_Shape):
    title: str = ""
    body: str = Field("", description="Markdown shown under the title.")
    help: str = Field("", description="Markdown: why this step matters, how to read results.")
    links: list[Link] = Field(default_factory=list)
    commands: list[Command] = Field(default_factory=list)
    warning: str | None = Field(
        None, description="Shown prominently before a risky step (reboots, data loss)."
    )
    position: Position | None = None


# --- node types ----------------------------------------------------------------------------


class YesNoNext(_Shape):
    yes: str | None = None
    no: str | None = None


class YesNoLog(_Shape):
    yes: str = ""
    no: str = ""


class QuestionNode(_NodeBase):
    """A yes/no question."""

    type: Literal["question"]
    next: YesNoNext = Field(default_factory=YesNoNext)
    log: YesNoLog = Field(default_factory=YesNoLog)


class ChoiceOption(_Shape):
    id: str = Field("", description="The answer recorded in the session; unique in the node.")
    label: str = ""
    next: str | None = None
    log: str = ""


class ChoiceNode(_NodeBase):
    """A multiple-choice question: 2 to 12 options (checked by validation, not here)."""

    type: Literal["choice"]
    options: list[ChoiceOption] = Field(default_factory=list)


class ActionNext(_Shape):
    done: str | None = None
    failed: str | None = None
    skipped: str | None = None


class ActionLog(_Shape):
    done: str = ""
    failed: str = ""
    skipped: str = ""


class ScriptRef(_Shape):
    """A published script of the tenant's library the step runs, with the value of each
    parameter: a literal, or text with `{{input.x}}` / `{{client.x}}` filled in the session.
    Values are text; the script's renderer checks them by the parameter's type."""

    id: str = Field("", description="script:<slug> of a published script.")
    parameters: dict[str, str] = Field(default_factory=dict)


class ActionNode(_NodeBase):
    """A step the engineer performs; answered done, failed or (if offered) skipped."""

    type: Literal["action"]
    next: ActionNext = Field(default_factory=ActionNext)
    log: ActionLog = Field(default_factory=ActionLog)
    script: ScriptRef | None = Field(
        None, description="A library script the engineer may copy or run through the RMM here."
    )


class InputNode(_NodeBase):
    """Asks for a value, stored as `{{input.<variable>}}` for later steps and the export."""

    type: Literal["input"]
    variable: str = ""
    save_to_client: str | None = Field(
        None, description="Also save the value in this field of the session's client context."
    )
    next: str | None = None
    log: str = ""


class ResolutionNode(_NodeBase):
    """Ends a path."""

    type: Literal["resolution"]
    outcome: Literal["resolved", "escalated", "unresolved"] | None = None
    summary: str = ""
    root_cause: str | None = None
    verification: str | None = Field(
        None,
        description='How the fix was verified, e.g. "User signed in and Outlook shows Connected".',
    )
    handover: str | None = Field(None, description="For escalations: what the next tier needs to know.")


Node = Annotated[
    QuestionNode | ChoiceNode | ActionNode | InputNode | ResolutionNode,
    Field(discriminator="type"),
]


# --- the tree document ------------------------------------------------------------------------


class _TreeContent(_Shape):
    type: Literal["tree"] = "tree"
    schema_version: Literal[1] = TREE_SCHEMA_VERSION
    title: str = ""
    description: str = ""
    category: str = ""
    tags: list[str] = Field(default_factory=list)
    start: str | None = Field(None, description="Id of the first node.")
    nodes: dict[str, Node] = Field(default_factory=dict)
    archived: bool = Field(False, description="Archived trees are hidden from the library.")
    review_by: str | None = Field(
        None,
        description="Review the tree by this date (YYYY-MM-DD). Set this or `review_every_days`, not both.",
    )
    review_every_days: int | None = Field(
        None,
        description="Review the tree every N days (1 to 3650), counted from its latest publish or review.",
    )
    applies_to: list[str] = Field(
        default_factory=list,
        description='Product versions the tree was written for, e.g. "Citrix VDA 2203 LTSR", "SonicOS 7.x".',
    )
    reviewed_at: str | None = Field(
        None,
        description="When the content was last checked against its sources (YYYY-MM-DD).",
    )
    sources: list[Link] = Field(
        default_factory=list,
        description="The pages the author checked for the whole tree (vendor documentation).",
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_couch_metadata(cls, data: Any) -> Any:
        if isinstance(data, dict) and _COUCH_METADATA.intersection(data):
            aliases = {f.alias for f in cls.model_fields.values() if f.alias}
            data = {k: v for k, v in data.items() if k not in _COUCH_METADATA or k in aliases}
        return data

    @field_validator("schema_version", mode="before")
    @classmethod
    def _no_bool_version(cls, value: Any) -> Any:
        # True == 1 in Python; a boolean version is garbage, not version 1.
        if isinstance(value, bool):
            raise ValueError("schema_version must be an integer")
        return value


class TreeDraft(_TreeContent):
    """Any tree body an editor may send or validate; a new tree may have no `_id` yet."""

    id: str | None = Field(None, alias="_id", pattern=TREE_ID_PATTERN)
    rev: str | None = Field(None, alias="_rev")


class TreeDocument(_TreeContent):
    """A tree draft as stored in the tenant's `trees` database."""

    model_config = ConfigDict(title="Tree")

    id: str = Field(alias="_id", pattern=TREE_ID_PATTERN, description="tree:<slug>")
    rev: str | None = Field(None, alias="_rev")


class TreeCreate(_TreeContent):
    """`POST /api/v1/trees`: a new draft. Without `_id` the server derives one."""

    id: str | None = Field(None, alias="_id", pattern=TREE_ID_PATTERN)


class TreeUpdate(TreeDocument):
    """`PUT /api/v1/trees/{id}`: the whole draft, with the `_rev` it was edited from."""

    rev: str = Field(alias="_rev")


class TreePublic(TreeDocument):
    """A draft as the API returns it; `_conflicts` lists revisions an author must settle."""

    rev: str = Field(alias="_rev")
    conflicts: list[str] = Field(default_factory=list, alias="_conflicts")


class TreeVersion(_Shape):
    """A published version: an immutable copy of the tree, pinned by sessions."""

    model_config = ConfigDict(title="TreeVersion", frozen=True)

    id: str = Field(alias="_id", pattern=TREE_VERSION_ID_PATTERN, description="treever:<tree-slug>:<n>")
    rev: str | None = Field(None, alias="_rev")
    type: Literal["tree_version"] = "tree_version"
    schema_version: Literal[1] = TREE_SCHEMA_VERSION
    tree_id: str = Field(pattern=TREE_ID_PATTERN)
    version: int = Field(ge=1)
    published_at: AwareDatetime
    published_by: str = Field(min_length=1, description="User id of the publisher.")
    change_note: str = ""
    tree: TreeDocument = Field(description="The tree exactly as published (without `_rev`).")

    @model_validator(mode="before")
    @classmethod
    def _drop_couch_metadata(cls, data: Any) -> Any:
        if isinstance(data, dict) and _COUCH_METADATA.intersection(data):
            data = {k: v for k, v in data.items() if k not in _COUCH_METADATA}
        if isinstance(data, dict) and isinstance(data.get("published_at"), str):
            # Documents are JSON: accept the ISO 8601 text we write (strict mode would not).
            try:
                data = {
                    **data,
                    "published_at": datetime.fromisoformat(data["published_at"].replace("Z", "+00:00")),
                }
            except ValueError:
                pass
        return data

    @model_validator(mode="after")
    def _ids_agree(self) -> TreeVersion:
        expected = tree_version_doc_id(self.tree_id, self.version)
        if self.id != expected:
            raise ValueError(
                f"_id must be {expected!r} for version {self.version} of {self.tree_id!r}, not {self.id!r}"
            )
        if self.tree.id != self.tree_id:
            raise ValueError(f"the frozen tree's _id {self.tree.id!r} must equal tree_id {self.tree_id!r}")
        if self.tree.rev is not None:
            raise ValueError(
                "the frozen tree must not carry a _rev: versions are copies, not revisions of the draft"
            )
        return self


# --- JSON Schema export -----------------------------------------------------------------------

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "tree.schema.json": TreeDocument,
    "tree_version.schema.json": TreeVersion,
}
"""Which model each committed schema file in `design_docs/schemas/` is generated from."""

DEFAULT_SCHEMA_DIR = Path(__file__).resolve().parents[2] / "design_docs" / "schemas"


def schema_texts() -> dict[str, str]:
    """The exact text of every schema file, keyed by file name (stable, sorted keys)."""
    out = {}
    for name, model in SCHEMA_FILES.items():
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            **model.model_json_schema(by_alias=True),
        }
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def export_schemas(path: str | Path = DEFAULT_SCHEMA_DIR) -> list[Path]:
    """Write the JSON Schemas of the tree and tree-version documents into folder `path`.

    Returns the files written. Run `python -m api.trees.models` after changing a model.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        target = folder / name
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    for written_path in export_schemas():
        print(written_path)
