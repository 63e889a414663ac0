"""The PWA's budgets, measured in headless Chromium against a real server (not asserted in tests):

- runner-route JavaScript: every script the browser loads to open a session in the runner
  (/s/{id}), gzipped: budget 200 KB;
- offline reload to interactive: with the network off, from reloading the runner to its
  answer buttons being on screen and enabled, at a 360x740 viewport: budget 1 s.

    cd pwa && npm run build && cd ..      # the server serves pwa/dist
    .venv/bin/python benchmarks/pwa_budgets.py [--reloads 7]
"""
from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, MOBILE, chromium_path  # noqa: E402
from tests.conftest import ServerProcess, Tenant  # noqa: E402

JS_BUDGET_KB = 200
RELOAD_BUDGET_MS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=7, help="offline reloads to time (median reported)")
    args = parser.parse_args()
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        raise SystemExit("pwa/dist is missing: run `cd pwa && npm run build` first")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "server").start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                tenant = Tenant(http, starter_library=True)
                engineer = tenant.add_user("engineer")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport=MOBILE, has_touch=True)
                page = ctx.new_page()
                page.goto(server.url + "/signin")
                page.fill("#email", engineer.email)
                page.fill("#password", engineer.password)
                page.click("button[type=submit]")
                page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
                page.click("[data-testid=tree-list] a >> nth=0")
                page.click("button:has-text('Start session')")
                page.wait_for_selector("[data-testid=step-card]")
                runner_url = page.url
                page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=30000)

                # 1. JavaScript for the runner route, loaded fresh (no HTTP cache, no service worker).
                fresh = browser.new_context(viewport=MOBILE, service_workers="block")
                fresh.add_init_script(f"localStorage.setItem('bl.signin', {page.evaluate('JSON.stringify(localStorage.getItem(`bl.signin`))')});")
                probe = fresh.new_page()
                scripts: dict[str, bytes] = {}
                probe.on("response", lambda r: scripts.__setitem__(r.url, r.body())
                         if r.request.resource_type == "script" and r.ok else None)
                probe.goto(runner_url)
                probe.wait_for_selector("[data-testid=step-card] [data-answer], [data-testid=step-card] #step-input",
                                        timeout=30000)
                raw = sum(len(b) for b in scripts.values())
                gz = sum(len(gzip.compress(b, 9)) for b in scripts.values())
                fresh.close()

                # 2. Offline reload to interactive.
                ctx.set_offline(True)
                times = []
                for _ in range(args.reloads):
                    page.reload()
                    page.wait_for_selector("[data-testid=step-card] button[data-answer]:enabled, "
                                           "[data-testid=step-card] #step-input", timeout=10000)
                    times.append(page.evaluate("performance.now()"))
                browser.close()
        finally:
            server.stop()

    print("Branchline PWA budgets (headless Chromium, 360x740)")
    print(f"  runner-route JavaScript: {len(scripts)} file(s), {raw / 1024:.1f} KB raw, "
          f"{gz / 1024:.1f} KB gzipped (budget {JS_BUDGET_KB} KB): "
          f"{'within' if gz / 1024 <= JS_BUDGET_KB else 'OVER'} budget")
    for url, body in sorted(scripts.items()):
        print(f"    {url.rsplit('/', 1)[-1]}: {len(gzip.compress(body, 9)) / 1024:.1f} KB gzipped")
    med = statistics.median(times)
    print(f"  offline reload to interactive: median {med:.0f} ms, best {min(times):.0f} ms, "
          f"worst {max(times):.0f} ms over {len(times)} reloads (budget {RELOAD_BUDGET_MS} ms): "
          f"{'within' if med <= RELOAD_BUDGET_MS else 'OVER'} budget")


if __name__ == "__main__":
    main()
