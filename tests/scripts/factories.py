"""Script bodies for the tests."""

from __future__ import annotations

import secrets


def small_script(name: str | None = None, **fields) -> dict:
    """A valid script with one parameter of each kind an engineer fills in most."""
    return {
        "name": name or f"Check a host {secrets.token_hex(3)}",
        "description": "Pings a host and reports.",
        "risk": "low",
        "tags": ["network"],
        "links": [{"title": "Microsoft Learn: Test-NetConnection", "url": "https://learn.microsoft.com/"}],
        "body": "Test-NetConnection -ComputerName $Target -Port $Port\nif ($Fix) { Write-Output 'fix' }\n",
        "parameters": [
            {"name": "Target", "type": "hostname", "required": True},
            {"name": "Port", "type": "int", "min": 1, "max": 65535, "default": 443},
            {"name": "Fix", "type": "bool", "default": False},
        ],
        **fields,
    }
