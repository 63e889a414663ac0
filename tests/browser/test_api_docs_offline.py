"""The API docs page renders with no internet at all, under its content security policy."""

from __future__ import annotations


def test_docs_render_with_the_internet_out_of_reach(browser, server):
    ctx = browser.new_context()
    page = ctx.new_page()
    outside: list[str] = []
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    def route(r):
        if r.request.url.startswith(server.url):
            r.continue_()
        else:  # an isolated network: nothing beyond this server answers
            outside.append(r.request.url)
            r.abort()

    try:
        page.route("**/*", route)
        page.goto(server.url + "/docs")
        # Swagger UI drew the operations from /openapi.json.
        page.locator(".opblock-summary-path", has_text="/api/v1/me").first.wait_for(timeout=30000)
        assert not outside, outside
        assert not violations, violations
    finally:
        ctx.close()
