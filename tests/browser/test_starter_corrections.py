"""Corrections to the starter trees (issue #20) as an engineer running them sees them: the
'network path was not found' branch reaches the blocked-guest-logon step, and the commands to
copy carry the values the engineer entered instead of a documentation example's."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    MOBILE,
    answer_step,
    app_context,
    edges,
    shot,
    sign_in,
    start_session,
    wait_synced,
)
from tests.conftest import Tenant

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "trees"


def seed(name: str) -> dict:
    return json.loads((SEEDS / f"{name}.json").read_text(encoding="utf-8"))


def path_to(tree: dict, target: str) -> list[tuple[str, str, str]]:
    """The fewest answers from the start to `target`: [(node_id, answer, next_node)]."""
    nodes = tree["nodes"]
    prev: dict[str, tuple[str, str] | None] = {tree["start"]: None}
    queue = collections.deque([tree["start"]])
    while queue:
        node_id = queue.popleft()
        if node_id == target:
            run = []
            while prev[node_id] is not None:
                before, answer = prev[node_id]
                run.append((before, answer, node_id))
                node_id = before
            return run[::-1]
        for answer, nxt in edges(nodes[node_id]):
            if nxt in nodes and nxt not in prev:
                prev[nxt] = (node_id, answer)
                queue.append(nxt)
    raise AssertionError(f"{target} cannot be reached from the start")


def walk(page, tree: dict, run: list[tuple[str, str, str]], values: dict[str, str]) -> None:
    for node_id, answer, nxt in run:
        variable = tree["nodes"][node_id].get("variable", "")
        answer_step(page, tree, node_id, answer, nxt, value=values.get(variable, "TEST-VALUE"))


def test_path_not_found_with_port_445_open_leads_to_the_guest_logon_step(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = seed("file-share-access")
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_synced(page)
        start_session(page, tree["title"], "SMB-0x80070035")
        walk(page, tree, [("scope", "one", "recent_change"), ("recent_change", "pc", "user_name")], {})
        walk(
            page,
            tree,
            [
                ("user_name", "", "share_path"),
                ("share_path", "", "file_server"),
                ("file_server", "", "capture"),
            ],
            {"user_name": "jsmith", "share_path": r"\\NAS01\Scans", "file_server": "NAS01"},
        )
        walk(
            page,
            tree,
            [
                ("capture", "done", "error_type"),
                ("error_type", "notfound", "reach_check"),
                ("reach_check", "done", "reach_ok"),
            ],
            {},
        )
        # TCP 445 answers, yet Windows said the path was not found: the SMB client log decides.
        page.click("[data-testid=step-card] [data-answer='yes']")
        card = page.get_by_test_id("step-card")
        expect(card).to_contain_text("31017")
        expect(card).to_contain_text("0xc000a000")
        shot(page, "starter-file-share-smb-client-log")
        page.click("[data-testid=step-card] [data-answer='guest']")
        expect(card).to_have_attribute("data-node-id", "insecure_smb")
        expect(card).to_contain_text("0x80070035")
        expect(
            card.get_by_role("link", name="Guest access in SMB2 and SMB3 disabled by default")
        ).to_be_visible()
    finally:
        ctx.close()


@pytest.mark.parametrize(
    ("tree_name", "node_id", "values", "expected", "example"),
    [
        (
            "entra-signin-mfa",
            "signin_logs",
            {"upn": "dana.lee@client-msp.test"},
            "dana.lee@client-msp.test",
            "contoso",
        ),
        (
            "veeam-backup-job-failed",
            "capture_session",
            {"job": "Nightly FS01 backup"},
            "Nightly FS01 backup",
            "JOB NAME",
        ),
    ],
)
def test_commands_carry_the_value_the_engineer_entered(
    browser, http, server, tree_name, node_id, values, expected, example
):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = seed(tree_name)
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_synced(page)
        start_session(page, tree["title"], f"CMD-{tree_name}")
        walk(page, tree, path_to(tree, node_id), values)
        command = page.get_by_test_id("command").first
        expect(command).to_contain_text(expected)
        expect(command).not_to_contain_text(example)
    finally:
        ctx.close()


@pytest.mark.parametrize(
    ("tree_name", "ending", "cause"),
    [
        ("veeam-backup-job-failed", "res_space", "ran out of free space"),
        ("sonicwall-vpn-tunnel-down", "res_wan_flap", "Dead Peer Detection drop the tunnel repeatedly"),
        ("bitlocker-recovery", "res_tpm", "The TPM was cleared, reset or replaced"),
    ],
)
def test_a_resolved_ending_states_its_own_root_cause(browser, http, server, tree_name, ending, cause):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    tree = seed(tree_name)
    ctx = app_context(browser, MOBILE)
    try:
        page = ctx.new_page()
        sign_in(page, server.url, engineer.email, engineer.password)
        wait_synced(page)
        start_session(page, tree["title"], f"END-{ending}")
        walk(page, tree, path_to(tree, ending), {})
        expect(page.get_by_test_id("step-card")).to_have_attribute("data-node-id", ending)
        expect(page.get_by_text(cause)).to_be_visible()
        shot(page, f"starter-ending-{tree_name}")
    finally:
        ctx.close()
