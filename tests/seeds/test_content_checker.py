"""The content checker (tests/seeds/content_check.py) over the starter library, and each rule
on a bad snippet that must fail (and a good one that must pass), so a rule that silently
stops matching is caught here rather than by a tree that slips through.

Every file in seeds/trees/ is checked, so a tree added later is checked without touching
this file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .content_check import (
    Finding,
    check_tree,
    command_problems,
    link_problems,
    literal_examples,
    metadata_problems,
    resolution_problems,
    risks,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "trees"
SEED_FILES = sorted(SEEDS.glob("*.json"))


def test_the_starter_library_is_there() -> None:
    assert len(SEED_FILES) >= 15


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_starter_tree_passes_the_content_checker(path: Path) -> None:
    findings = check_tree(path.stem, json.loads(path.read_text(encoding="utf-8")))
    assert findings == [], "\n".join(str(f) for f in findings)


# --- rule 1: commands parse -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Get-Service -Name BrokerAgent | Select-Object Name, Status, StartType",
        "Get-ADUser -Identity '{{input.user_name}}' -Properties MemberOf",
        "Test-NetConnection {{input.host}} -Port 443",
        "Get-Volume | Select-Object DriveLetter, @{n='FreeGB';e={[math]::Round($_.SizeRemaining/1GB,1)}}",
        "Add-DnsServerResourceRecordA -ZoneName $zone -Name $name -IPv4Address '{{input.ip}}'",
        "# a comment with an apostrophe: it's fine\nGet-ChildItem 'C:\\Temp' -Include *.bak,*.iso -Recurse",
    ],
)
def test_valid_powershell_parses(text: str) -> None:
    assert command_problems("powershell", text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Get-Service -Name 'BrokerAgent",  # a string never closed
        "Invoke-Command -ComputerName x -ScriptBlock { Get-Service",  # a block never closed
        "Get-Service | | Select-Object Name",  # an empty pipeline element
        "foreach ($dc in $dcs) repadmin /showrepl $dc",  # a loop body needs braces
        "if ($a -eq 1 { 'yes' }",
    ],
)
def test_broken_powershell_is_refused(text: str) -> None:
    assert any("PowerShell syntax error" in p for p in command_problems("powershell", text))


def test_cmd_lines_close_their_quotes_and_do_not_use_hash_comments() -> None:
    assert command_problems("cmd", 'icacls "C:\\Data" /grant "%USERDOMAIN%\\{{input.group}}:(OI)(CI)M"') == []
    assert command_problems("cmd", "REM it's a remark\nipconfig /all") == []
    assert any("double quote" in p for p in command_problems("cmd", 'nslookup "{{input.name}}'))
    assert any("REM" in p for p in command_problems("cmd", "# On the PDC emulator\nw32tm /resync"))


def test_sh_is_tokenised() -> None:
    assert command_problems("bash", "grep -i 'error' /var/log/syslog | tail -n 20") == []
    assert any("tokenise" in p for p in command_problems("sh", "echo 'unterminated"))


def test_a_language_must_be_known_and_match_the_text() -> None:
    assert any("not one of" in p for p in command_problems("ps1", "Get-Service"))
    assert any("mark it powershell" in p for p in command_problems("cmd", "Get-Service Spooler"))
    assert any("mark it powershell" in p for p in command_problems("cmd", "net use | Select-String X"))
    assert command_problems("cmd", "repadmin /showrepl {{input.dc}} /errorsonly") == []


# --- rule 2: no literal example values --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Get-ADUser jsmith -Server dc01.contoso.com",
        "Get-MgUser -UserId user@example.com",
        "Add-MailboxPermission -Identity info@fabrikam.com -User {{input.upn}}",
        "Get-VBRJob -Name 'JOB NAME'",
        "Get-ADObject -SearchBase 'OU=Users,DC=contoso,DC=com'",
        "Test-NetConnection SERVERNAME -Port 445",
        "Test-NetConnection 192.0.2.15 -Port 443",
        "nslookup {{input.name}} <dns-server>",
        "manage-bde -unlock C: -RecoveryPassword 111111-222222-333333-444444-555555-666666-777777-888888",
        'icacls "{{input.path}}" /grant "DOMAIN\\Staff:M"',
    ],
)
def test_literal_example_values_are_refused(text: str) -> None:
    assert literal_examples(text), text


def test_placeholders_and_real_names_are_not_examples() -> None:
    assert literal_examples("Get-SmbConnection | Select-Object ServerName, ShareName") == []
    assert literal_examples("Resolve-DnsName '{{input.failing_name}}' -Server '{{client.dns_server}}'") == []
    assert literal_examples('w32tm /config /manualpeerlist:"0.pool.ntp.org" /update') == []


# --- rule 3: risky commands carry a warning ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Restart-Computer -Force",
        "Restart-Service -Name Spooler",
        "shutdown /r /t 0",
        "net stop netlogon && net start netlogon",
        "Remove-Item C:\\Temp\\* -Recurse",
        "del /q /s C:\\Windows\\SoftwareDistribution\\Download\\*",
        "rd /s /q C:\\Temp\\old",
        "Remove-ADGroupMember -Identity x -Members y",
        "Reset-ComputerMachinePassword -Server dc1",
        "netsh winsock reset",
        "Clear-Tpm",
        'reg add "HKLM\\SOFTWARE\\Policies\\X" /v Y /t REG_DWORD /d 1 /f',
        "reg delete HKCU\\Software\\X /f",
        "Set-ItemProperty -Path 'HKLM:\\SOFTWARE\\X' -Name Y -Value 1",
        "New-ItemProperty -Path 'HKCU:\\Software\\X' -Name Y -Value 1",
        "repadmin /options {{input.dc}} +DISABLE_OUTBOUND_REPL",
        "Move-ClusterGroup -Name SQL -Node node2",
        "Start-VBRViReplicaFailover -RestorePoint $rp",
    ],
)
def test_risky_commands_are_recognised(text: str) -> None:
    assert risks(text), text


@pytest.mark.parametrize(
    "text",
    [
        "ipconfig /flushdns",
        "Clear-DnsClientCache",
        "Clear-DnsServerCache -Force",
        "repadmin /options {{input.dc}}",
        "gpupdate /force",
        "Get-Service Spooler",
        "Set-ItemProperty -Path 'C:\\Temp\\a.txt' -Name IsReadOnly -Value $false",
    ],
)
def test_safe_commands_are_not_risky(text: str) -> None:
    assert risks(text) == [], text


def test_a_risky_step_without_a_warning_is_a_finding() -> None:
    tree = _tree({"fix": _action(commands=[{"language": "powershell", "text": "Restart-Service Spooler"}])})
    assert [f.rule for f in check_tree("t", tree) if f.node_id == "fix"] == ["warning"]
    tree["nodes"]["fix"]["warning"] = "Stops printing for everyone for a moment."
    assert [f for f in check_tree("t", tree) if f.node_id == "fix"] == []


# --- rule 4: links are https and specific -----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://learn.microsoft.com/en-us/windows-server/administration/windows-commands/icacls",
        "https://learn.microsoft.com/en-us/",
        "https://www.veeam.com/support.html",
        "https://testconnectivity.microsoft.com/",
        "https://docs.citrix.com/en-us",
        "ftp://example.net/file",
    ],
)
def test_plain_or_home_page_links_are_refused(url: str) -> None:
    assert link_problems(url), url


def test_specific_https_links_pass() -> None:
    assert link_problems("https://learn.microsoft.com/en-us/fslogix/troubleshooting-error-codes") == []
    assert link_problems("https://testconnectivity.microsoft.com/tests/o365") == []


def test_markdown_links_in_a_body_are_checked_too() -> None:
    tree = _tree({"fix": _action(body="See [the docs](http://learn.microsoft.com/en-us/fslogix/x).")})
    assert [f.rule for f in check_tree("t", tree)] == ["links"]


# --- rule 5: resolutions state a root cause and a verification ---------------------------------


def test_a_resolved_ending_needs_a_specific_cause_and_a_verification() -> None:
    good = {
        "outcome": "resolved",
        "root_cause": "The print spooler crashed on a faulty HP driver.",
        "verification": "Printed a test page and the spooler stayed up for an hour.",
    }
    assert resolution_problems(good) == []
    assert resolution_problems({**good, "verification": None}) != []
    assert resolution_problems({**good, "verification": "Works."}) != []
    assert resolution_problems({**good, "root_cause": "Unknown"}) != []


def test_an_escalation_needs_a_cause_and_a_handover() -> None:
    good = {
        "outcome": "escalated",
        "root_cause": "Suspected a failing RAID controller.",
        "handover": "Logs attached, see the controller events.",
    }
    assert resolution_problems(good) == []
    assert resolution_problems({**good, "handover": ""}) != []
    assert resolution_problems({**good, "root_cause": None}) != []


def test_an_unresolved_ending_needs_a_cause_or_a_handover() -> None:
    assert (
        resolution_problems(
            {"outcome": "unresolved", "handover": "The user will call back after the reboot."}
        )
        == []
    )
    assert resolution_problems({"outcome": "unresolved"}) != []


# --- the starter library's review metadata ---------------------------------------------------


def test_a_starter_tree_names_what_it_applies_to_and_when_it_was_checked() -> None:
    good = {
        "applies_to": ["SonicOS 7.x"],
        "reviewed_at": "2026-12-04",
        "review_every_days": 180,
        "sources": [{"title": "SonicWall: IPsec VPN", "url": "https://www.sonicwall.com/support/x"}],
    }
    assert metadata_problems(good) == []
    for field in good:
        assert metadata_problems({k: v for k, v in good.items() if k != field}), field


def test_findings_read_as_a_place_and_a_reason() -> None:
    finding = Finding("dns-resolution-failure", "record_fix", "warning", "a delete without a warning")
    assert str(finding) == "dns-resolution-failure / record_fix: [warning] a delete without a warning"


def _action(**fields: object) -> dict:
    return {
        "type": "action",
        "title": "Fix it",
        "next": {"done": "end"},
        "log": {"done": "Fixed it."},
        **fields,
    }


def _tree(nodes: dict) -> dict:
    end = {
        "type": "resolution",
        "outcome": "resolved",
        "title": "Done",
        "summary": "Fixed.",
        "root_cause": "The spooler service had stopped after an update.",
        "verification": "A test page printed from the user's PC.",
    }
    return {
        "applies_to": ["Windows 11"],
        "reviewed_at": "2026-12-04",
        "review_every_days": 180,
        "sources": [
            {"title": "Microsoft: Print spooler", "url": "https://learn.microsoft.com/en-us/troubleshoot/x"}
        ],
        "start": next(iter(nodes)),
        "nodes": {**nodes, "end": end},
    }
