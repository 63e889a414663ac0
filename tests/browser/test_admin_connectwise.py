"""ConnectWise PSA in the PWA: an admin connects it on the Integrations screen (the private key
write-only), an engineer sends a completed session from the export screen, the fake
ConnectWise (tests/integrations/fake_connectwise.py) receives the ticket and the note, and the
session header shows the ticket linking to ConnectWise with its status.

The fake listens on 127.0.0.1, so this module's server allows private targets.
"""

from __future__ import annotations

from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    answer_step,
    app_context,
    assert_accessible,
    finish_session,
    shortest_run,
    shot,
    sign_in,
    start_session,
)
from tests.conftest import Tenant, wait_until
from tests.integrations.fake_connectwise import FakeConnectWise
from tests.sessions.test_sessions_api import publish_tree
from tests.trees.factories import valid_tree

SERVER_ENV = {"BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true", "BRANCHLINE_PSA_RETRY_SCHEDULE": "0.3,0.3"}


def test_admin_connects_connectwise_and_an_engineer_sends_a_completed_session(browser, http, server):
    cw = FakeConnectWise().start()
    tenant = Tenant(http)
    engineer = tenant.add_user("engineer")
    tree = valid_tree()
    publish_tree(http, tenant, tree)
    admin_ctx = app_context(browser, DESKTOP)
    admin = admin_ctx.new_page()
    phone_ctx = app_context(browser, MOBILE)
    phone = phone_ctx.new_page()
    try:
        # The admin connects ConnectWise.
        sign_in(admin, server.url, tenant.owner_email, tenant.password)
        admin.goto(server.url + "/admin/integrations")
        admin.wait_for_selector("[data-testid=cw-status] >> text=Not set up")
        config = cw.config()
        for name in ("site_url", "company_id", "public_key", "client_id", "company", "board", "status"):
            admin.fill(f"#cw-{name}", config[name])
        admin.fill("#cw-private_key", cw.private_key)
        admin.click("[data-testid=cw-save]")
        admin.wait_for_selector("[role=status]:has-text('Saved.')")
        admin.wait_for_selector("[data-testid=cw-status] >> text=Connected")
        # Write-only: the key is gone from the form, which says one is set; a reload never shows it.
        assert admin.input_value("#cw-private_key") == ""
        admin.reload()
        admin.wait_for_selector("#cw-site_url")
        assert admin.input_value("#cw-site_url") == cw.site_url
        assert admin.get_attribute("#cw-private_key", "placeholder") == "•••••••• (set)"
        assert cw.private_key not in admin.content()
        shot(admin, "connectwise-01-configured-desktop")
        assert_accessible(admin, "the Integrations screen with ConnectWise")

        # The engineer runs a session to its end and sends it to ConnectWise.
        sign_in(phone, server.url, engineer.email, engineer.password)
        sid = start_session(phone, tree["title"], "Printer on floor 3")
        run = shortest_run(tree)
        for node_id, ans, nxt in run:
            answer_step(phone, tree, node_id, ans, nxt)
        finish_session(phone, "Restarted the Desktop Service.")
        phone.wait_for_selector("text=Send to ConnectWise")
        # no ticket number: a new ticket
        assert phone.is_checked("input[name=psa-target-connectwise] >> nth=0")
        assert_accessible(phone, "the export screen with Send to ConnectWise")
        phone.click("[data-testid=psa-send]")
        # "Queued", or already the ticket once the pushed header synced back in its place
        phone.wait_for_selector("[data-testid=psa-queued], [data-testid=psa-ticket]")
        shot(phone, "connectwise-02-queued-mobile")

        wait_until(
            lambda: cw.tickets and any(cw.notes.values()), timeout=30, message="the ticket and its note"
        )
        ticket_id, ticket = next(iter(cw.tickets.items()))
        export = http.get(f"/api/v1/sessions/{sid}/export?format=text", headers=engineer.headers).text
        assert cw.notes[ticket_id][0]["text"] == export

        # The header shows the ticket, linking to ConnectWise, once the device synced it.
        phone.goto(f"{server.url}/s/{sid}")
        link = phone.locator("[data-testid=psa-ticket]")
        link.wait_for(timeout=30000)
        assert link.inner_text().startswith(f"ConnectWise #{ticket_id} · New")
        assert link.get_attribute("href") == (
            f"{cw.site_url}/v4_6_release/services/system_io/Service/fv_sr100_request.rdl?service_recid={ticket_id}"
        )
        shot(phone, "connectwise-03-header-mobile")

        # The admin's status shows the success.
        admin.reload()
        admin.wait_for_selector(f"[data-testid=cw-last-success]:has-text('ticket #{ticket_id}')")
        # The session has no title of its own: the new ticket is named after the tree.
        assert ticket["summary"] == f"{tree['title']} [Branchline {sid}]"
    finally:
        admin_ctx.close()
        phone_ctx.close()
        cw.stop()
