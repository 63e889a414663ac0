"""Do a tree's action steps name scripts the tenant's library has, with its parameters?

`validate_tree` checks only the form of an action's `script` (an id, parameter names, values
with well-formed placeholders): a tree is a document of its own and is validated without the
tenant. This module adds what needs the library (`library`: published scripts by id, each
with its `name` and `parameters`), for `POST /trees/validate` and publishing. The editor's
twin is `pwa/src/editor/scriptRefs.ts`, with the same codes and messages.

- `unknown_script`: no published, non-archived script has that id.
- `unknown_script_parameter`: the step maps a parameter the script does not have.
- `missing_script_parameter`: a required parameter without a default has no value.
- `secret_script_parameter`: a `secret` parameter is mapped: nothing secret is stored in a tree.
"""

from __future__ import annotations

from typing import Any

from .validation import Problem, quoted

CODES: dict[str, str] = {
    "unknown_script": "An action names a script the library does not have published.",
    "unknown_script_parameter": "An action maps a parameter its script does not have.",
    "missing_script_parameter": "A required script parameter has no value.",
    "secret_script_parameter": "A secret script parameter is given a value in the tree.",
}


def script_problems(tree: Any, library: dict[str, dict[str, Any]]) -> list[Problem]:
    """The library problems of every action step's script, in node order."""
    nodes = tree.get("nodes") if isinstance(tree, dict) else None
    if not isinstance(nodes, dict):
        return []
    problems: list[Problem] = []
    for node_id, node in nodes.items():
        if not isinstance(node, dict) or node.get("type") != "action":
            continue
        ref = node.get("script")
        if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
            continue
        problems.extend(_ref_problems(node_id, ref, library))
    return problems


def _ref_problems(node_id: str, ref: dict[str, Any], library: dict[str, dict[str, Any]]) -> list[Problem]:
    script = library.get(ref["id"])
    if script is None:
        return [
            Problem(
                node_id=node_id,
                code="unknown_script",
                message=f"The script {quoted(ref['id'])} is not published in this team's script "
                "library (never published, archived or renamed). Pick a published script, or "
                "have an author publish it.",
            )
        ]
    name = script.get("name") or ref["id"]
    params = {p["name"]: p for p in script.get("parameters") or [] if isinstance(p, dict) and "name" in p}
    raw = ref.get("parameters")
    values: dict[str, Any] = raw if isinstance(raw, dict) else {}
    out: list[Problem] = []
    for key in values:
        param = params.get(key)
        if param is None:
            out.append(
                Problem(
                    node_id=node_id,
                    code="unknown_script_parameter",
                    message=f"The script {quoted(name)} has no parameter {quoted(key)}. Remove "
                    "that value, or map one of the script's parameters.",
                )
            )
        elif param.get("type") == "secret":
            out.append(
                Problem(
                    node_id=node_id,
                    code="secret_script_parameter",
                    message=f"{key} is a secret: a tree never stores one. Remove its value; "
                    "the engineer types it when the script runs.",
                )
            )
    for key, param in params.items():
        if param.get("required") and param.get("default") is None and param.get("type") != "secret":
            if not str(values.get(key) or "").strip():
                out.append(
                    Problem(
                        node_id=node_id,
                        code="missing_script_parameter",
                        message=f"The script's required parameter {key} has no value. Enter "
                        "one, or map it to an input or a client field.",
                    )
                )
    return out
