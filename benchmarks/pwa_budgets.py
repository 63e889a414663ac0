"""The PWA's budgets, measured in headless Chromium against a real server (not asserted here;
tests/browser/test_pwa_first_load.py asserts the first-load limits):

- runner-route JavaScript: every script the page fetches on a first visit to a session in
  the runner (/s/{id}) in a fresh profile, as transferred (compressed when the server
  compresses; headers included) and uncompressed: budget 200 KB transferred;
- the service worker's background precache on that first visit (every chunk, so the rest of
  the app works offline afterwards), transferred;
- offline reload to interactive: with the network off, from reloading the runner to its
  answer buttons being on screen and enabled, at a 360x740 viewport: budget 1 s.

    cd pwa && npm run build && cd ..      # the server serves pwa/dist
    .venv/bin/python benchmarks/pwa_budgets.py [--reloads 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, MOBILE, chromium_path  # noqa: E402
from tests.browser.network import PageTransfers, precache_transfers  # noqa: E402
from tests.conftest import ServerProcess, Tenant  # noqa: E402

JS_BUDGET_KB = 200
RELOAD_BUDGET_MS = 1000
INTERACTIVE = "[data-testid=step-card] button[data-answer]:enabled, [data-testid=step-card] #step-input"


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


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
                page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30000)
                signin = page.evaluate("localStorage.getItem('bl.signin')")

                # 1. A first visit to the runner in a fresh profile (empty HTTP cache, no service
                #    worker yet), signed in: what the page fetches, then what the worker precaches.
                fresh = browser.new_context(viewport=MOBILE, has_touch=True)
                fresh.add_init_script(f"localStorage.setItem('bl.signin', {json.dumps(signin)});")
                precache = precache_transfers(fresh)
                probe = fresh.new_page()
                transfers = PageTransfers(probe)
                probe.goto(runner_url)
                probe.wait_for_selector(INTERACTIVE, timeout=30000)
                transfers.settle()
                scripts = transfers.scripts()
                probe.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30000)
                probe.evaluate("navigator.serviceWorker.ready.then(() => true)")
                fresh.close()

                # 2. Offline reload to interactive.
                ctx.set_offline(True)
                times = []
                for _ in range(args.reloads):
                    page.reload()
                    page.wait_for_selector(INTERACTIVE, timeout=10000)
                    times.append(page.evaluate("performance.now()"))
                browser.close()
        finally:
            server.stop()

    sent = sum(t.transferred for t in scripts)
    raw = sum(t.raw for t in scripts)
    print("Branchline PWA budgets (headless Chromium, 360x740)")
    print(
        f"  runner-route JavaScript, first visit: {len(scripts)} file(s), {kb(sent)} transferred, "
        f"{kb(raw)} uncompressed (budget {JS_BUDGET_KB} KB transferred): "
        f"{'within' if sent / 1024 <= JS_BUDGET_KB else 'OVER'} budget"
    )
    for t in scripts:
        print(
            f"    {t.name}: {kb(t.transferred)} transferred "
            f"({t.content_encoding or 'uncompressed'}), {kb(t.raw)} raw"
        )
    if precache:
        print(
            f"  service worker precache, in the background after that load: {len(precache)} file(s), "
            f"{kb(sum(n for _, n in precache))} transferred"
        )
    med = statistics.median(times)
    print(
        f"  offline reload to interactive: median {med:.0f} ms, best {min(times):.0f} ms, "
        f"worst {max(times):.0f} ms over {len(times)} reloads (budget {RELOAD_BUDGET_MS} ms): "
        f"{'within' if med <= RELOAD_BUDGET_MS else 'OVER'} budget"
    )


if __name__ == "__main__":
    main()
