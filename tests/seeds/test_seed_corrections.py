"""Corrections to the starter library checked against the vendors' documentation (issue #20).

Each test pins what an engineer following the tree would get wrong without the correction:
a branch that cannot reach the right step, a superseded procedure, or a command that would
run against somebody else's example domain.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "trees"
SEED_FILES = sorted(SEEDS.glob("*.json"))

# Values from vendors' documentation examples that must never reach a command an engineer
# copies: documentation domains and users, RFC 5737 documentation addresses, and the
# upper-case stand-ins some articles use for a name to fill in.
EXAMPLE_VALUES = re.compile(
    r"contoso|fabrikam|northwind|adatum|woodgrove|litware|tailspin"
    r"|\bexample\.(?:com|org|net)\b|\.example\b|corp\.example"
    r"|\b(?:user|admin|shared)@"
    r"|\b192\.0\.2\.\d|\b198\.51\.100\.\d|\b203\.0\.113\.\d"
    r"|'JOB NAME'|\"JOB NAME\"|\bDC=\w+,DC=\w+"
    r"|\b(?:proxy|esxi|rdsh|dc|fs|srv|printsrv)0\d\b|\\\\oldserver\b",
    re.IGNORECASE,
)
# A PowerShell cmdlet (Verb-Noun with a verb PowerShell approves) cannot run in cmd.
CMDLET = re.compile(
    r"\b(?:Get|Set|New|Remove|Add|Clear|Test|Resolve|Start|Stop|Restart|Invoke|Enable|Disable"
    r"|Update|Select|Where|Format|Import|Export|Measure|Repair|Reset)-[A-Z][A-Za-z]+"
)


def load(name: str) -> dict[str, Any]:
    return json.loads((SEEDS / f"{name}.json").read_text(encoding="utf-8"))


def targets(node: dict[str, Any]) -> list[str]:
    if node["type"] in ("question", "action"):
        return [t for t in node["next"].values() if t]
    if node["type"] == "choice":
        return [o["next"] for o in node["options"]]
    if node["type"] == "input":
        return [node["next"]]
    return []


def reachable(tree: dict[str, Any], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node_id = todo.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        todo.extend(targets(tree["nodes"][node_id]))
    return seen


def option_target(node: dict[str, Any], option_id: str) -> str:
    return next(o["next"] for o in node["options"] if o["id"] == option_id)


def link_urls(node: dict[str, Any]) -> list[str]:
    return [link["url"] for link in node.get("links", [])]


def commands(node: dict[str, Any]) -> str:
    return "\n".join(c["text"] for c in node.get("commands", []))


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_no_command_holds_an_example_value(path: Path) -> None:
    tree = json.loads(path.read_text(encoding="utf-8"))
    found = [
        (node_id, match.group(0))
        for node_id, node in tree["nodes"].items()
        for command in node.get("commands", [])
        for match in EXAMPLE_VALUES.finditer(command["text"])
    ]
    assert found == [], "use {{input.x}} instead of example values (rules: tests/seeds/content_check.py)"


@pytest.mark.parametrize("path", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_commands_labelled_cmd_hold_no_powershell(path: Path) -> None:
    tree = json.loads(path.read_text(encoding="utf-8"))
    found = [
        (node_id, match.group(0))
        for node_id, node in tree["nodes"].items()
        for command in node.get("commands", [])
        if command.get("language") == "cmd"
        for match in CMDLET.finditer(command["text"])
    ]
    assert found == [], "a cmdlet in a block labelled cmd fails when pasted into a command prompt"


def test_example_value_pattern_catches_the_known_examples() -> None:
    for text in (
        "Get-MgUser -UserId user@contoso.com",
        "Get-VBRJob -Name 'JOB NAME'",
        'repadmin /replicate a b "DC=contoso,DC=com"',
        "Test-NetConnection vpn.example.com",
        "ping 192.0.2.10",
        "nslookup fileserver.corp.example",
        "Test-NetConnection -ComputerName proxy01 -Port 6162",
        "quser /server:rdsh02",
        "Test-Path '\\\\oldserver\\share'",
    ):
        assert EXAMPLE_VALUES.search(text), text
    for text in (
        "Get-MgUser -UserId {{input.upn}}",
        "Get-VBRJob -Name '{{input.job}}'",
        "$nc = (Get-ADDomain).DistinguishedName",
    ):
        assert not EXAMPLE_VALUES.search(text), text


def test_file_share_path_not_found_can_reach_the_guest_logon_step() -> None:
    tree = load("file-share-access")
    nodes = tree["nodes"]
    after_not_found = reachable(tree, option_target(nodes["error_type"], "notfound"))
    assert "insecure_smb" in after_not_found
    assert "signing_check" in after_not_found
    guest = nodes["insecure_smb"]
    assert "0x80070035" in guest["body"] and "31017" in guest["body"]
    assert any("guest-access-in-smb2" in url for url in link_urls(guest))


def test_file_share_names_smb_signing_required_by_default() -> None:
    nodes = load("file-share-access")["nodes"]
    body = nodes["signing_check"]["body"]
    assert "24H2" in body and "Server 2025" in body
    assert any(url.endswith("/file-server/smb-signing") for url in link_urls(nodes["signing_check"]))
    assert nodes["signing_check"].get("warning")


def test_file_share_checks_kerberos_and_clock_skew() -> None:
    tree = load("file-share-access")
    after_prompt = reachable(tree, option_target(tree["nodes"]["error_type"], "prompt"))
    kerberos = tree["nodes"]["kerberos_check"]
    assert "kerberos_check" in after_prompt
    assert "klist get cifs/" in commands(kerberos) and "w32tm" in commands(kerberos)
    assert "5 minutes" in kerberos["body"]


def test_ad_secure_channel_follows_the_current_kdc_guidance() -> None:
    node = load("ad-replication-failure")["nodes"]["secure_channel"]
    text = commands(node)
    assert "net stop kdc" not in text.lower()
    assert "Set-Service -Name KDC -StartupType Disabled" in text
    assert "Restart-Computer" in text
    assert "Set-Service -Name KDC -StartupType Automatic" in text
    assert "restart" in node["warning"].lower()


def test_ad_error_8453_is_checked_as_replication_permissions() -> None:
    nodes = load("ad-replication-failure")["nodes"]
    options = [o for o in nodes["error_family"]["options"] if "8453" in o["label"]]
    assert len(options) == 1
    step = nodes[options[0]["next"]]
    assert "NCSecDesc" in commands(step)
    assert any("replication-error-8453" in url for url in link_urls(step))


def test_ad_latency_does_not_flag_a_quiet_site() -> None:
    body = load("ad-replication-failure")["nodes"]["latency"]["body"]
    assert "15 minutes" not in body
    assert "60 minutes" in body


def test_fslogix_reason_3_removes_the_local_profile() -> None:
    nodes = load("fslogix-profile-issues")["nodes"]
    option = next(o for o in nodes["reason_check"]["options"] if o["label"].startswith("Reason 3"))
    step = nodes[option["next"]]
    assert "Remove-CimInstance" in commands(step) and "Win32_UserProfile" in commands(step)
    assert step.get("warning")


def test_fslogix_branches_on_the_windows_error_in_the_log() -> None:
    nodes = load("fslogix-profile-issues")["nodes"]
    errors = nodes[option_target(nodes["reason_check"], "err")]
    assert errors["type"] == "choice"
    assert {o["id"]: o["next"] for o in errors["options"]} == {
        "0x5": "perms_check",
        "0x3": "share_access",
        "0x20": "lock_check",
        "other": "config_check",
    }


def test_fslogix_names_cleanup_invalid_sessions_where_a_lock_is_released() -> None:
    node = load("fslogix-profile-issues")["nodes"]["release_lock"]
    assert "CleanupInvalidSessions" in node["body"] and "CleanupInvalidSessions" in commands(node)
    assert any(url.endswith("/fslogix/reference-configuration-settings") for url in link_urls(node))


def test_fslogix_event_viewer_path_has_no_extra_level() -> None:
    body = load("fslogix-profile-issues")["nodes"]["capture"]["body"]
    assert "Applications and Services Logs > FSLogix > Apps > Operational" in body
    assert "> Microsoft > FSLogix" not in body


def test_citrix_controller_list_names_the_auto_update_cache_and_no_load_balancer() -> None:
    body = load("citrix-vda-registration")["nodes"]["ddc_list"]["body"]
    assert "Enable auto update of Controllers" in body and "cache" in body
    assert "load-balanced" in body


def test_sonicwall_warns_against_weak_proposals() -> None:
    node = load("sonicwall-vpn-tunnel-down")["nodes"]["proposals"]
    for weak in ("DES", "3DES", "MD5", "DH group 1/2"):
        assert weak in node["warning"], weak
    assert "DH group 14" in node["body"] and "IKEv2" in node["body"]
    assert any(url.endswith("/rfc8247") for url in link_urls(node))


def test_sonicwall_links_specific_pages_not_the_documentation_home() -> None:
    homes = {
        "https://www.sonicwall.com/support/technical-documentation/",
        "https://www.sonicwall.com/support/knowledge-base/",
    }
    nodes = load("sonicwall-vpn-tunnel-down")["nodes"]
    assert [(n, url) for n, node in nodes.items() for url in link_urls(node) if url in homes] == []


def test_sonicwall_has_a_branch_for_a_flapping_tunnel() -> None:
    tree = load("sonicwall-vpn-tunnel-down")
    assert "flap" in [o["id"] for o in tree["nodes"]["scope"]["options"]]
    assert tree["nodes"]["tunnel_listed"]["next"]["yes"] == "tunnel_stable"
    after = reachable(tree, "tunnel_stable")
    assert {"flap_cause", "wan_stability", "res_wan_flap"} <= after


def test_sonicwall_ssl_vpn_checks_firmware_and_mfa_first() -> None:
    tree = load("sonicwall-vpn-tunnel-down")
    nodes = tree["nodes"]
    assert {o["next"] for o in nodes["ssl_changed"]["options"]} == {"ssl_security"}
    check = nodes["ssl_security"]
    assert "MFA" in check["title"] and "SNWLID-2024-0015" in check["body"]
    assert any("psirt" in url for url in link_urls(check))


RESOLVED_ENDINGS = {
    "sonicwall-vpn-tunnel-down": 7,
    "veeam-backup-job-failed": 5,
    "entra-signin-mfa": 5,
    "bitlocker-recovery": 4,
}


@pytest.mark.parametrize("name", sorted(RESOLVED_ENDINGS))
def test_resolved_endings_name_a_specific_root_cause(name: str) -> None:
    nodes = load(name)["nodes"]
    resolved = [n for n in nodes.values() if n["type"] == "resolution" and n["outcome"] == "resolved"]
    causes = {n["root_cause"] for n in resolved}
    assert len(resolved) >= RESOLVED_ENDINGS[name]
    assert len(causes) == len(resolved), "each resolved ending states its own root cause"
    assert all("Verified" in n["summary"] or "verified" in n["summary"] for n in resolved)
