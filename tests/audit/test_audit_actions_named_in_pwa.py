"""Every action the server records has a sentence on the Audit log page.

The page (pwa/src/admin/auditText.ts) shows an action it does not know as its dotted name,
so a new action is never hidden, only unreadable: this test says so the day an action is
added to the server without its sentence (and its filter group) in the PWA.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")
# The calls that take an action: the audit service's own, and the helpers features wrap it in.
CALLS = {"record", "append", "append_to", "_audit"}


def _name(func: ast.expr) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _actions(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            args = node.args
            if _name(node.func) in CALLS or any(
                _name(a) == "record" for a in args if isinstance(a, ast.Attribute)
            ):
                found |= {
                    a.value
                    for a in args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str) and ACTION.match(a.value)
                }
        if isinstance(node, ast.FunctionDef) and node.name == "user_changes":
            found |= {
                c.value
                for c in ast.walk(node)
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value.startswith("user.")
            }
    return found


def server_actions() -> set[str]:
    out: set[str] = set()
    for path in (ROOT / "api").rglob("*.py"):
        out |= _actions(path)
    return out


def pwa_actions() -> set[str]:
    text = (ROOT / "pwa/src/admin/auditText.ts").read_text()
    groups = text.split("export const ACTION_GROUPS", 1)[1].split("];", 1)[0]
    return set(re.findall(r'"([a-z_]+\.[a-z_]+)"', groups))


def test_the_scan_finds_the_actions_recorded_in_each_way():
    found = server_actions()
    # A direct record(), an action chosen at run time through a helper (publish reviews, the
    # PSA and RMM workers), user_changes, run_in_threadpool(audit.record, ...), the
    # instance log's append_to and a share link's append.
    for action in (
        "api_key.created",
        "tree.review_approved",
        "psa.pushed",
        "rmm.run_finished",
        "user.role_changed",
        "export_template.changed",
        "auth.sign_in_failed",
        "share_link.viewed",
    ):
        assert action in found, action


def test_every_recorded_action_has_a_sentence_in_the_pwa():
    missing = server_actions() - pwa_actions()
    assert not missing, (
        f"{sorted(missing)}: recorded by the server but unknown to pwa/src/admin/auditText.ts; "
        "add each to ACTION_GROUPS, a sentence to describeAction and a case to auditText.test.ts"
    )
    stale = pwa_actions() - server_actions()
    assert not stale, f"{sorted(stale)}: in auditText.ts's filter but no longer recorded by the server"
