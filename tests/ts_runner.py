"""Run a TypeScript module of the PWA from Python tests: bundled once by the PWA's esbuild,
then one long-lived node process that answers a JSON batch per line. The parity tests (fold,
exports, validation) use it to compare the two implementations on many generated cases."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ESBUILD = ROOT / "pwa" / "node_modules" / ".bin" / "esbuild"


def bundle_for_require(entry: Path, outfile: Path) -> Path:
    """A PWA module bundled by the PWA's esbuild as one CommonJS file, for a Node script's
    `require` (the PouchDB scripts and the load generator run the app's own code this way)."""
    subprocess.run(
        [str(ESBUILD), str(entry), "--bundle", "--format=cjs", "--platform=node", f"--outfile={outfile}"],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return outfile


class TypeScriptRunner:
    def __init__(self, entry: Path, workdir: Path, what: str) -> None:
        node = shutil.which("node")
        assert node, f"node is needed to run {what}"
        assert ESBUILD.exists(), f"{ESBUILD} is missing: run `npm ci` in pwa/ first"
        bundle = workdir / (entry.stem + ".bundle.mjs")
        subprocess.run(
            [str(ESBUILD), str(entry), "--bundle", "--format=esm", "--platform=node", f"--outfile={bundle}"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        self.what = what
        self.proc = subprocess.Popen(
            [node, str(bundle)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )

    def __call__(self, batch: list[Any]) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(batch, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the node runner of {self.what} exited"
        answer = json.loads(line)
        assert "error" not in answer, answer.get("error")
        return answer

    def __enter__(self) -> TypeScriptRunner:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)
