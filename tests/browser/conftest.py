"""Headless Chromium (Debian's) driven by Playwright. Never `playwright install`: it downloads
a browser, which this network refuses; the test command installs Debian's `chromium`."""
from __future__ import annotations

import shutil

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert shutil.which(path), "Debian's chromium is missing: run `make test` as root, or apt-get install chromium"
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context()
    yield ctx
    ctx.close()
