"""The PWA's own unit tests (Vitest), run as part of the one suite."""
import shutil
import subprocess
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"


def test_pwa_unit_tests_pass():
    assert (PWA / "package.json").exists(), "pwa/package.json is missing"
    assert shutil.which("npm"), "npm is needed for the PWA's tests"
    proc = subprocess.run(["npm", "run", "--silent", "test"], cwd=PWA, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
