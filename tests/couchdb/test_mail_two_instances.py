"""Two Branchline instances on one CouchDB (pouchdb-server) send each e-mail once.

Invitations are queued through either instance; both instances' workers see every message
(their own writes and, through the CouchDB watch, the other's) and race to send it. Each send
is claimed with the message's `_rev`, as webhook deliveries are, so the store lets one
instance have it: the real SMTP server (aiosmtpd) receives one message per invitee.
"""

from __future__ import annotations

import secrets
from collections import Counter

import httpx
import pytest

from tests.conftest import ServerProcess, Tenant, unique_email, wait_until
from tests.mail.smtp import SmtpServer, env_for, running

SMTP = SmtpServer()
smtp = running(SMTP)


@pytest.fixture(scope="module")
def pair(couchdb, tmp_path_factory):
    env = {
        **couchdb.env(),
        **env_for(SMTP),
        "BRANCHLINE_SECRET_KEY": secrets.token_urlsafe(
            40
        ),  # the same on both: they open each other's messages
    }
    a = ServerProcess(tmp_path_factory.mktemp("mail-a"), env=env).start()
    b = ServerProcess(tmp_path_factory.mktemp("mail-b"), env=env).start()
    yield a, b
    a.stop()
    b.stop()


def test_two_instances_send_every_invitation_once_between_them(pair, smtp):
    a, b = pair
    with httpx.Client(base_url=a.url, timeout=30) as on_a, httpx.Client(base_url=b.url, timeout=30) as on_b:
        tenant = Tenant(on_a, name="Twin Instances IT")
        on_b_headers = tenant.headers  # the same token works on both: one secret, one store
        invited = []
        for i in range(12):
            client = on_a if i % 2 else on_b
            email = unique_email(f"twin{i}")
            r = client.post(
                "/api/v1/users/invite",
                headers=on_b_headers,
                json={"email": email, "display_name": f"Twin {i}"},
            )
            assert r.status_code == 201 and r.json()["emailed"] is True, r.text
            invited.append(email)

        for email in invited:
            smtp.wait_for(email, timeout=60)
        items = wait_until(
            lambda: (
                (got := on_b.get("/api/v1/mail", headers=tenant.headers).json()["items"])
                and len(got) == len(invited)
                and all(m["status"] == "delivered" for m in got)
                and got
            ),
            timeout=60,
            message="every message shown delivered on the other instance",
        )
    received = Counter(to for m in smtp.received for to in m.rcpt_tos if to in invited)
    assert set(received) == set(invited) and set(received.values()) == {1}, received.most_common(3)
    assert all(m["attempt_count"] == 1 for m in items)
    senders = Counter(m["attempts"][0]["by"].split(":")[1] for m in items)
    assert set(senders) <= {str(a.proc.pid), str(b.proc.pid)}, senders
    print("messages sent per instance:", dict(senders))
