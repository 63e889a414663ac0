"""A pushed session's header follows its Autotask ticket: the title and status are read again."""

from __future__ import annotations

from tests.conftest import wait_until
from tests.integrations.fake_autotask import DISCOVERY_ENV
from tests.integrations.helpers import header, wait_pushed
from tests.integrations.test_autotask_push import send, setup
from tests.integrations.test_connectwise_push import completed_session
from tests.sessions.test_sessions_api import publish_tree

SERVER_ENV = {
    "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true",
    "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.2,0.2",
    "BRANCHLINE_PSA_REFRESH_SECONDS": "0.5",
    **DISCOVERY_ENV,
}


def test_the_header_follows_the_tickets_status_after_it_moves_on_in_autotask(http, tenant, at):
    tree_id = publish_tree(http, tenant)
    setup(http, tenant, at, time_entry=False)
    sid = completed_session(http, tenant, tree_id)
    send(http, tenant, sid, create_ticket=True)
    first = wait_pushed(http, tenant, sid)

    at.set_status(first["ticket_id"], 5)

    later = wait_until(
        lambda: (p := header(http, tenant, sid)["psa"])["status"] == "Complete" and p,
        timeout=20,
        message="the ticket's new status in the header",
    )
    assert later["ticket_id"] == first["ticket_id"] and len(at.notes[first["ticket_id"]]) == 1
