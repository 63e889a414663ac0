"""RMM addresses are checked like webhook targets: with the default settings (no private
targets), loopback, private and metadata addresses are refused when saved."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("system", "body"),
    [
        (
            "ninjaone",
            {
                "instance_url": "http://127.0.0.1:8080",
                "client_id": "x",
                "client_secret": "y",
                "runner_script_id": 1,
            },
        ),
        (
            "datto",
            {"api_url": "http://169.254.169.254", "api_key": "k", "api_secret": "s", "component_uid": "c"},
        ),
    ],
)
def test_private_rmm_addresses_are_refused(http, tenant, system, body):
    r = http.put(f"/api/v1/rmm/{system}", headers=tenant.headers, json=body)
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert "is refused" in r.json()["reason"]
