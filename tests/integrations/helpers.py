"""Helpers of the PSA tests: configuring the connector, pushing, waiting on the status."""

from __future__ import annotations

import httpx

from tests.conftest import wait_until


def configure(http: httpx.Client, who, body: dict, status: int = 200, system: str = "connectwise") -> dict:
    r = http.put(f"/api/v1/integrations/{system}", headers=who.headers, json=body)
    assert r.status_code == status, r.text
    return r.json()


def integration(http: httpx.Client, who, system: str) -> dict:
    """The connector's entry in GET /api/v1/integrations (the status dashboard's data)."""
    r = http.get("/api/v1/integrations", headers=who.headers)
    assert r.status_code == 200, r.text
    return next(i for i in r.json()["items"] if i["system"] == system)


def connectwise(http: httpx.Client, who) -> dict:
    return integration(http, who, "connectwise")


def push(http: httpx.Client, who, sid: str, status: int = 202, **body) -> dict:
    r = http.post(f"/api/v1/sessions/{sid}/psa", headers=who.headers, json={"system": "connectwise", **body})
    assert r.status_code == status, r.text
    return r.json()


def header(http: httpx.Client, who, sid: str) -> dict:
    r = http.get(f"/api/v1/sessions/{sid}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["header"]


def wait_pushed(http: httpx.Client, who, sid: str, timeout: float = 30) -> dict:
    """The session header's `psa`, once the push wrote it."""
    return wait_until(lambda: header(http, who, sid).get("psa"), timeout=timeout, message="the psa header")


def export_text(http: httpx.Client, who, sid: str, fmt: str = "text") -> str:
    r = http.get(f"/api/v1/sessions/{sid}/export", params={"format": fmt}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.content.decode()
