"""A link's worth at a given moment, and the expired page, without waiting days: the state is
a pure function of the record and the time, and the page is asked for in-process on a link
whose record says it expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.app import create_app
from api.auth.tokens import hash_secret
from api.settings import Settings
from api.share import repository as repo, service
from tests.conftest import run_async

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def link(**fields) -> dict:
    return {"expires_at": "2026-12-10T12:00:00Z", "revoked_at": None, **fields}


@pytest.mark.parametrize(
    "record, at, state",
    [
        (link(), NOW, "active"),
        (link(), datetime(2026, 12, 10, 11, 59, 59, tzinfo=UTC), "active"),
        (link(), datetime(2026, 12, 10, 12, 0, tzinfo=UTC), "expired"),  # the expiry instant is out
        (link(revoked_at="2026-12-04T08:00:00Z"), NOW, "revoked"),
        # A revoked link that has also expired says it was revoked: that is what its maker did.
        (link(revoked_at="2026-12-04T08:00:00Z"), NOW + timedelta(days=30), "revoked"),
    ],
)
def test_link_state(record, at, state):
    assert service.link_state(record, at) == state


def test_an_expired_link_answers_410_saying_it_expired(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    ctx = app.state.ctx
    token = "t" * 43
    repo.create(
        ctx.system,
        {
            "_id": repo.link_doc_id("tenant1", "01JD3Z8Q6V9R1W0K2M4N5P7S8T", "link1"),
            "type": "share_link",
            "schema_version": 1,
            "tenant_id": "tenant1",
            "session_id": "01JD3Z8Q6V9R1W0K2M4N5P7S8T",
            "link_id": "link1",
            "token_hash": hash_secret(token),
            "attachments": False,
            "created_at": "2026-11-01T09:00:00Z",
            "created_by": "someone",
            "expires_at": "2026-11-02T09:00:00Z",
            "revoked_at": None,
            "revoked_by": None,
            "first_viewed_at": None,
        },
    )

    async def fetch(accept: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://branchline.test") as client:
            return await client.get(f"/share/{token}", headers={"accept": accept})

    page = run_async(fetch("text/html"))
    assert page.status_code == 410 and "expired on 2 November 2026, 09:00 UTC" in page.text
    assert page.headers["cache-control"] == "no-store"
    body = run_async(fetch("application/json")).json()
    assert body["error"] == "link_expired" and "Ask the person who shared it" in body["reason"]
