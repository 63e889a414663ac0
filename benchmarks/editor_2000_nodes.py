"""The tree editor on a 2,000-node tree (the size limit), in headless Chromium against a real
server: time from the author's click on the tree in the editor's list until the first frame
that shows the graph and the live validation's problem count (fetch, layout, validation and
drawing included). Budget: 1 s.

Also printed per run: where the time went (performance marks), when the test driver saw the
graph, and the span from the editor's mount to that frame.

    cd pwa && npm run build && cd ..      # the server serves pwa/dist
    .venv/bin/python benchmarks/editor_2000_nodes.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.conftest import ServerProcess, Tenant  # noqa: E402
from tests.trees.factories import chain_tree  # noqa: E402

BUDGET_MS = 1000
NODES = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="openings to time (median reported)")
    args = parser.parse_args()
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        raise SystemExit("pwa/dist is missing: run `cd pwa && npm run build` first")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "server").start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                tenant = Tenant(http)
                author = tenant.add_user("author")
                tree = chain_tree(NODES)
                tree["title"] = "Two thousand steps"
                r = http.post("/api/v1/trees", headers=author.headers, json=tree)
                assert r.status_code == 201, r.text
                tree_id = r.json()["id"]
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1440, "height": 900})
                page = ctx.new_page()
                page.goto(server.url + "/signin")
                page.fill("#email", author.email)
                page.fill("#password", author.password)
                page.click("button[type=submit]")
                page.wait_for_url(lambda url: "/signin" not in url, timeout=30000)
                wall, inner = [], []
                for run in range(args.runs + 1):
                    page.goto(server.url + "/editor")
                    page.wait_for_selector(f"a[href='/editor/{tree_id.replace(':', '%3A')}']")
                    page.wait_for_selector("[data-testid=sync-status][data-pending='0']", timeout=60000)
                    # The clock starts at the author's click (the pointer-down on the tree's link),
                    # and stops at the first frame that shows the graph and the problem count.
                    page.evaluate("""delete window.__editorReady; delete window.__editorReadyAt;
                        performance.clearMarks();
                        document.addEventListener('pointerdown', () => { window.__t0 = performance.now() },
                                                  {capture: true, once: true})""")
                    page.click(f"a[href='/editor/{tree_id.replace(':', '%3A')}']")
                    page.wait_for_selector("[data-testid=graph-node]", timeout=60000)
                    page.wait_for_function(
                        "() => document.querySelector('[data-testid=problem-count]') !== null"
                    )
                    page.wait_for_function("() => window.__editorReadyAt !== undefined")
                    ms = page.evaluate("window.__editorReadyAt - window.__t0")
                    seen_ms = page.evaluate("performance.now() - window.__t0")
                    count = int(page.text_content("[data-testid=problem-count]"))
                    assert count == 0, f"the 2,000-node chain is valid, the editor found {count} problems"
                    marks = page.evaluate(
                        "Object.fromEntries(performance.getEntriesByType('mark')"
                        ".filter(m => m.name.startsWith('editor:'))"
                        ".map(m => [m.name, Math.round(m.startTime - window.__t0)]))"
                    )
                    print(
                        "  run", run, f"{ms:.0f} ms (seen by the test driver after {seen_ms:.0f} ms)", marks
                    )
                    if run:  # the first opening also downloads the editor's code; report warm runs
                        wall.append(ms)
                        inner.append(page.evaluate("window.__editorReady"))
                    else:
                        cold = ms
                browser.close()
        finally:
            server.stop()
    median = statistics.median(wall)
    print(
        f"editor, {NODES:,}-node tree: open + validate + render, click to first frame with the graph: "
        f"median {median:.0f} ms over {len(wall)} runs (min {min(wall):.0f}, max {max(wall):.0f}); "
        f"first opening incl. code download "
        f"{cold:.0f} ms; inside the page (mount -> first frame) median {statistics.median(inner):.0f} ms "
        f"[budget {BUDGET_MS} ms: {'OK' if median < BUDGET_MS else 'OVER'}]"
    )


if __name__ == "__main__":
    main()
