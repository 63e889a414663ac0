"""A pushed session's header follows its ticket: the summary and status are read again."""

from __future__ import annotations

from tests.conftest import wait_until
from tests.integrations.helpers import configure, header, push, wait_pushed
from tests.integrations.test_connectwise_push import completed_session
from tests.sessions.test_sessions_api import publish_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.2,0.2",
    "BRANCHLINE_PSA_REFRESH_SECONDS": "0.5",
}


def test_the_header_shows_the_tickets_status_after_it_moves_on_in_connectwise(http, tenant, cw):
    tree_id = publish_tree(http, tenant)
    configure(http, tenant, cw.config())
    sid = completed_session(http, tenant, tree_id)
    push(http, tenant, sid, create_ticket=True)
    first = wait_pushed(http, tenant, sid)
    assert first["status"] == "New"

    cw.set_status(first["ticket_id"], "Completed")

    later = wait_until(
        lambda: (p := header(http, tenant, sid)["psa"])["status"] == "Completed" and p,
        timeout=20,
        message="the ticket's new status in the header",
    )
    assert later["ticket_id"] == first["ticket_id"] and later["pushed_at"] == first["pushed_at"]
    assert later["checked_at"] > first["checked_at"]
    assert len(cw.notes[first["ticket_id"]]) == 1  # read again, never posted again
