"""The admin area's tabs on a phone: one row that scrolls sideways inside itself, the open tab in
view, the page itself never wider than the screen; every tab opens its page."""

from __future__ import annotations

from tests.browser.conftest import MOBILE, app_context, assert_accessible, shot
from tests.browser.test_editor_build_publish import sign_in
from tests.conftest import Tenant

NAV = "nav[aria-label='Team admin']"


def test_on_a_phone_the_admin_tabs_are_one_row_with_the_open_one_in_view(browser, http, server):
    tenant = Tenant(http)
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        sign_in(page, server.url, tenant.owner_email, tenant.password)
        page.goto(server.url + "/admin")
        page.locator(f"{NAV} a[aria-current=page]").wait_for()
        tabs = page.locator(f"{NAV} a:visible")
        labels = tabs.all_inner_texts()
        assert labels[0] == "Members" and len(labels) >= 5, labels
        hrefs = [tabs.nth(i).get_attribute("href") for i in range(len(labels))]
        for label, href in zip(labels, hrefs, strict=True):
            page.goto(server.url + href)
            current = page.locator(f"{NAV} a[aria-current=page]")
            current.wait_for()
            assert current.inner_text() == label
            # One row: every tab at the same height, however many there are.
            tops = page.eval_on_selector_all(
                f"{NAV} a", "els => els.filter(e => e.offsetParent).map(e => e.offsetTop)"
            )
            assert len(set(tops)) == 1, (label, tops)
            # The open tab is on screen, though the last ones start beyond the right edge.
            box = current.bounding_box()
            assert box is not None, label
            assert box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"], (label, box)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), label
        shot(page, "admin-nav-01-last-tab-phone")
        assert_accessible(page, f"the {labels[-1]} admin page on a phone")
        # More tabs than fit: the row itself scrolls.
        assert page.eval_on_selector(NAV, "n => n.scrollWidth > n.clientWidth")
    finally:
        ctx.close()
