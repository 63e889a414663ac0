"""Registering a tenant from the app: the owner lands in the library with the starter trees."""

from __future__ import annotations

from tests.browser.conftest import MOBILE, app_context, shot
from tests.conftest import STRONG_PASSWORD, unique_email


def test_register_a_tenant_and_see_the_starter_library(browser, server):
    ctx = app_context(browser, MOBILE)
    page = ctx.new_page()
    try:
        page.goto(server.url + "/signin")
        page.click("text=Create your MSP's workspace")
        page.fill("#tenant", "Northwind IT")
        page.fill("#name", "Nora Owner")
        page.fill("#email", unique_email("nora"))
        page.fill("#password", STRONG_PASSWORD)
        shot(page, "mobile-00-register")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=tree-list]", timeout=30000)
        page.wait_for_function("() => document.querySelectorAll('[data-testid=tree-list] li').length >= 10")
        page.goto(server.url + "/history")
        page.wait_for_selector("text=Everyone's")  # owners see every session
        page.goto(server.url + "/profile")
        page.wait_for_selector("text=Northwind IT")
    finally:
        ctx.close()
