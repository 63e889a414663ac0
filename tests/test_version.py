"""The version the server reports is the one `pyproject.toml` sets, everywhere it is shown."""

from __future__ import annotations

import tomllib
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx

from api.app import create_app
from api.settings import Settings
from tests.conftest import ROOT


def test_healthz_and_openapi_report_the_projects_version(tmp_path):
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            return await c.get("/healthz"), await c.get("/openapi.json")

    with ThreadPoolExecutor(1) as pool:  # the browser tests keep an event loop in the main thread
        health, spec = pool.submit(anyio.run, go).result()
    assert health.json()["version"] == expected
    assert spec.json()["info"]["version"] == expected
