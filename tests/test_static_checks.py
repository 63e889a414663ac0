"""The static checks, run by `make test`: ruff (lint and format) and mypy over the Python, tsc and
ESLint over the PWA.

Their configuration lives in pyproject.toml (`[tool.ruff]`, `[tool.mypy]`: strict on `sync/` and the
pure cores) and pwa/eslint.config.js. Run them alone with `.venv/bin/ruff check .`,
`.venv/bin/ruff format --check .`, `.venv/bin/mypy` and
`cd pwa && npm run --silent lint && npm run --silent typecheck`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PWA = ROOT / "pwa"
VENV_BIN = ROOT / ".venv" / "bin"


def _run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def _tool(name: str) -> str:
    path = VENV_BIN / name
    assert path.exists(), f"{path} is missing: run `scripts/bootstrap.sh test` (it installs the test extras)"
    return str(path)


def _ruff() -> list[tuple[str, str]]:
    """(file, finding) for every ruff finding."""
    proc = _run([_tool("ruff"), "check", "--output-format", "json", "--no-cache", "."])
    assert proc.returncode in (0, 1), proc.stderr[-4000:]
    findings = []
    for f in json.loads(proc.stdout or "[]"):
        path = Path(f["filename"]).resolve().relative_to(ROOT).as_posix()
        findings.append((path, f"{path}:{f['location']['row']}: {f['code']} {f['message']}"))
    return findings


def _mypy() -> list[tuple[str, str]]:
    """(file, finding) for every mypy error."""
    proc = _run([_tool("mypy"), "--no-error-summary", "--no-pretty"])
    findings = [
        (m.group(1), line)
        for line in proc.stdout.splitlines()
        if (m := re.match(r"^([^:]+\.py):\d+: error:", line))
    ]
    assert proc.returncode == 0 or findings, proc.stdout[-4000:] + proc.stderr[-4000:]
    return findings


@pytest.fixture(scope="module")
def python_findings() -> dict[str, list[tuple[str, str]]]:
    return {"ruff": _ruff(), "mypy": _mypy()}


def _assert_clean(tool: str, findings: list[tuple[str, str]]) -> None:
    texts = [text for _path, text in findings]
    assert not texts, (
        f"{tool} found {len(texts)} problem(s); fix the code (do not loosen the rules):\n" + "\n".join(texts)
    )


def test_ruff_check_finds_nothing(python_findings):
    _assert_clean("ruff", python_findings["ruff"])


def test_mypy_finds_nothing(python_findings):
    _assert_clean("mypy", python_findings["mypy"])


def test_python_is_formatted():
    proc = _run([_tool("ruff"), "format", "--check", "--no-cache", "."])
    assert proc.returncode == 0, (
        "Not formatted; run `.venv/bin/ruff format <files>`:\n" + proc.stdout[-6000:] + proc.stderr[-2000:]
    )


def _npm_script(script: str) -> subprocess.CompletedProcess[str]:
    assert shutil.which("npm"), "npm is needed for the PWA's checks"
    return _run(["npm", "run", "--silent", script], cwd=PWA)


def test_pwa_typechecks():
    proc = _npm_script("typecheck")
    assert proc.returncode == 0, "tsc --noEmit failed:\n" + proc.stdout[-6000:] + proc.stderr[-2000:]


def test_pwa_eslint_finds_nothing():
    assert (PWA / "lint" / "node_modules" / "eslint").exists(), (
        "pwa/lint/node_modules is missing: run `scripts/bootstrap.sh test` (ESLint has its own package)"
    )
    proc = _npm_script("lint")
    assert proc.returncode == 0, "ESLint failed:\n" + proc.stdout[-6000:] + proc.stderr[-2000:]
