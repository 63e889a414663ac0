"""Small valid trees for tests to break one rule at a time."""

from __future__ import annotations

import copy
from typing import Any


def valid_tree() -> dict[str, Any]:
    """A complete, valid tree using every node type, a retry loop and both placeholder kinds.

    scope --yes--> vda (input) --> service (action) --done--> fixed
          \\--no--> event (choice) <--failed/skipped-- service
    event --1002--> ports (action) --done--> fixed, --failed--> escalate
    event --1010--> escalate
    """
    return copy.deepcopy(
        {
            "_id": "tree:citrix-vda-registration",
            "type": "tree",
            "schema_version": 1,
            "title": "Citrix VDA Not Registering",
            "description": "A VDA shows Unregistered in Studio.",
            "category": "Citrix",
            "tags": ["citrix", "vda"],
            "start": "scope",
            "nodes": {
                "scope": {
                    "type": "question",
                    "title": "Is only one VDA affected?",
                    "body": "Check **Studio > Machine Catalogs**.",
                    "help": "One VDA points at the machine; many point at the controllers.",
                    "links": [
                        {
                            "title": "Citrix: VDA registration",
                            "url": "https://docs.example.org/vda-registration",
                        }
                    ],
                    "next": {"yes": "vda", "no": "event"},
                    "log": {
                        "yes": "Scoped the issue to a single VDA.",
                        "no": "Several VDAs affected; checked the event log first.",
                    },
                },
                "vda": {
                    "type": "input",
                    "title": "Which VDA?",
                    "variable": "vda_name",
                    "save_to_client": "vdas",
                    "next": "service",
                    "log": "Target VDA: {{input.vda_name}}.",
                },
                "service": {
                    "type": "action",
                    "title": "Restart the Citrix Desktop Service",
                    "warning": "Users on this VDA are disconnected.",
                    "commands": [
                        {
                            "language": "powershell",
                            "text": "Restart-Service BrokerAgent -ComputerName {{input.vda_name}}",
                        }
                    ],
                    "next": {"done": "fixed", "failed": "event", "skipped": "event"},
                    "log": {
                        "done": "Restarted BrokerAgent on {{input.vda_name}}.",
                        "failed": "BrokerAgent on {{input.vda_name}} would not restart.",
                        "skipped": "Did not restart BrokerAgent.",
                    },
                },
                "event": {
                    "type": "choice",
                    "title": "Which event does the VDA log show?",
                    "options": [
                        {
                            "id": "1002",
                            "label": "1002: cannot connect",
                            "next": "ports",
                            "log": "Found event 1002 on {{input.vda_name}} at {{client.name}}.",
                        },
                        {
                            "id": "1010",
                            "label": "1010: refused",
                            "next": "escalate",
                            "log": "Found event 1010: the controller refused the VDA.",
                        },
                    ],
                },
                "ports": {
                    "type": "action",
                    "title": "Open TCP 80 from the VDA to the controllers",
                    "body": "Windows Defender Firewall > Inbound Rules.",
                    "next": {"done": "fixed", "failed": "escalate"},
                    "log": {"done": "Opened TCP 80.", "failed": "Could not open TCP 80."},
                },
                "fixed": {
                    "type": "resolution",
                    "outcome": "resolved",
                    "title": "VDA registered",
                    "summary": "The VDA registered again.",
                    "root_cause": "Blocked port or hung service.",
                    "handover": None,
                },
                "escalate": {
                    "type": "resolution",
                    "outcome": "escalated",
                    "title": "Escalate to Citrix team",
                    "summary": "Escalated: the VDA still does not register.",
                    "handover": "Event log exported; service restarted; TCP 80 checked.",
                },
            },
        }
    )


def chain_tree(n: int) -> dict[str, Any]:
    """A valid tree of `n` nodes: n-1 actions in a line, each retrying itself on failure, then
    a resolution. Used for size limits and timing."""
    nodes: dict[str, Any] = {}
    for i in range(n - 1):
        following = f"n{i + 1}" if i + 1 < n - 1 else "end"
        nodes[f"n{i}"] = {
            "type": "action",
            "title": f"Step {i}",
            "body": "Control Panel > System",
            "next": {"done": following, "failed": f"n{i}"},
            "log": {"done": f"Did step {i}.", "failed": f"Step {i} failed; retried."},
        }
    nodes["end"] = {
        "type": "resolution",
        "outcome": "resolved",
        "title": "Done",
        "summary": "All steps done.",
    }
    return {
        "_id": "tree:chain",
        "type": "tree",
        "schema_version": 1,
        "title": "Chain",
        "start": "n0" if n > 1 else "end",
        "nodes": nodes,
    }
