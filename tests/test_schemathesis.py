"""The published contract holds: schemathesis, driven by `/openapi.json`, against a real server.

Every check runs (see tests/schemathesis.toml): no server error, and the answers conform to the document
(documented status codes, content types and schemas, `Allow` on 405, schema-violating input
refused, schema-valid input accepted except where `tests/schemathesis.toml` says why not).
It runs once signed in as a tenant owner and once with no credentials. A few examples per
operation and a fixed seed keep it within about a minute on a busy machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Tenant

CONFIG = Path(__file__).with_name("schemathesis.toml")
# A quiet machine sends the owner's run past 3,000 requests a minute: the fuzzer is to reach the
# routes, not the rate limit (whose 429 is documented on every operation anyway).
SERVER_ENV = {"BRANCHLINE_RATE_LIMIT_USER_PER_MINUTE": "1000000"}


def run_schemathesis(url: str, tmp_path: Path, *headers: str) -> subprocess.CompletedProcess:
    args = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--max-examples",
        "5",
        "--seed",
        "20261203",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    for header in headers:
        args += ["-H", header]
    return subprocess.run(args, capture_output=True, text=True, timeout=240)


def failures(result: subprocess.CompletedProcess) -> str:
    """What failed, operation by operation, then the summary (which alone says only how many)."""
    out = result.stdout
    start = max(out.find("FAILURES"), 0)
    return out[start : start + 10000] + "\n...\n" + out[-2500:] + result.stderr[-2000:]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("signed_in", [True, False], ids=["owner", "anonymous"])
def test_schemathesis_finds_no_error_and_no_contract_mismatch(server, http, tmp_path, signed_in):
    headers = [f"Authorization: Bearer {Tenant(http).tokens['access_token']}"] if signed_in else []
    result = run_schemathesis(server.url, tmp_path, *headers)
    assert result.returncode == 0, failures(result)
    assert "Tested:" in result.stdout, result.stdout[-3000:]
