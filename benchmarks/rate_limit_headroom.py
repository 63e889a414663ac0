"""How far a replication stays below the per-user rate limit: a real PouchDB client pushes,
then pulls, N ~1 KB documents through the full application (rate limits on, defaults)
with Basic e-mail credentials, and the server's access log counts the requests it made
and any 429 answers.

    npm ci --prefix tests/node      # once
    .venv/bin/python benchmarks/rate_limit_headroom.py [--docs 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serve import serve_command  # noqa: E402

from api.settings import Settings  # noqa: E402
from tests.conftest import Tenant, free_port, wait_until  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bl-headroom-") as tmp:
        data = Path(tmp)
        port = free_port()
        env = {
            **os.environ,
            "BRANCHLINE_DATA_DIR": str(data),
            "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(40),
        }
        with open(data / "access.log", "w") as log:
            proc = subprocess.Popen(
                serve_command(port, log_level="info", access_log=True),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: httpx.get(url + "/healthz", timeout=1).status_code == 200, timeout=30)
            with httpx.Client(base_url=url, timeout=60) as http:
                tenant = Tenant(http)
                assert http.put(f"/sync/{tenant.id}/bench", headers=tenant.headers).status_code == 201
            before = (data / "access.log").read_text().count('HTTP/1.1"')
            client_args = {
                "url": f"{url}/sync/{tenant.id}/bench",
                "auth": {"basic": [tenant.owner_email, tenant.password]},
                "n": args.docs,
            }
            out = subprocess.run(
                ["node", "bench.js", json.dumps(client_args)],
                cwd=ROOT / "tests" / "node",
                capture_output=True,
                text=True,
                timeout=1800,
            )
            if out.returncode != 0:
                raise SystemExit(f"bench.js failed:\n{out.stderr[-2000:]}")
            times = json.loads(out.stdout.strip().splitlines()[-1])
            text = (data / "access.log").read_text()
        finally:
            proc.terminate()
            proc.wait(10)
    requests = text.count('HTTP/1.1"') - before
    refused = text.count('" 429')
    limit = Settings().rate_limit_user_per_minute
    print(
        f"{args.docs} documents pushed and pulled in {times['total_ms'] / 1000:.1f} s: {requests} requests, "
        f"{refused} answered 429; the per-user limit allows {limit} at once "
        f"({requests / limit:.0%} of it used)"
    )


if __name__ == "__main__":
    main()
