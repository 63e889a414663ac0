"""Start from a ticket: the link a PSA opens (`/start?ticket=&summary=&client=&tree=`), in a
tab and inside a PSA's frame (a ConnectWise pod, an Autotask insight), signed in or not,
online or offline."""

from __future__ import annotations

import http.server
import threading
from urllib.parse import urlencode

import pytest

from api.settings import Settings, SettingsError
from tests.browser.conftest import (
    DESKTOP,
    MOBILE,
    current_node,
    shot,
    signed_in_page,
    wait_synced,
)
from tests.conftest import Tenant, free_port
from tests.integrations.fake_connectwise import FakeConnectWise

PSA_PORT = free_port()
PSA_ORIGIN = f"http://localhost:{PSA_PORT}"
# The PSA's origin may frame the app's pages; the test's other "PSA" may not.
# The fake ConnectWise listens on loopback: this module's server may reach private targets.
SERVER_ENV = {"BRANCHLINE_EMBED_ORIGINS": PSA_ORIGIN, "BRANCHLINE_WEBHOOK_ALLOW_PRIVATE": "true"}
VPN_TREE = "tree:sonicwall-vpn-tunnel-down"


def start_link(base: str, **params: str) -> str:
    return f"{base}/start?{urlencode(params)}"


def add_client(http, who, name: str) -> str:
    r = http.post("/api/v1/clients", headers=who.headers, json={"name": name, "values": {}})
    assert r.status_code == 201, r.text
    return r.json()["_id"]


def test_a_ticket_link_suggests_the_tree_and_starts_the_session_once(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    contoso = add_client(http, engineer, "Contoso Ltd")
    add_client(http, engineer, "Fabrikam")
    link = start_link(
        server.url,
        ticket="T20261203.0042",
        summary="Site-to-site VPN to the branch office is down since this morning",
        client="contoso",
    )
    with signed_in_page(browser, server.url, engineer, MOBILE) as (_ctx, page):
        page.goto(link)
        page.wait_for_selector("[data-testid=ticket-heading]:text-is('Ticket T20261203.0042')")
        # The summary's words pick the SonicWall tree first, and say why.
        first = page.locator("[data-testid=tree-choices] li").first
        assert "SonicWall VPN Tunnel Down" in first.inner_text()
        assert "vpn" in first.inner_text().lower()
        assert page.is_checked(f"input[name=tree][value='{VPN_TREE}']")
        # "contoso" named the client by the start of its name.
        page.wait_for_selector(f"#client option[value='{contoso}']", state="attached")
        assert page.input_value("#client") == contoso
        shot(page, "ticket-start-mobile")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=step-card]")
        sid = page.url.rsplit("/s/", 1)[1]
        wait_synced(page)
        header = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["header"]
        assert header["ticket"] == "T20261203.0042"
        assert header["client_id"] == contoso
        assert header["tree_id"] == VPN_TREE
        assert header["title"].startswith("Site-to-site VPN")

        # The PSA opens the same link again (the pod reloads): the open session is offered
        # first, and continuing it starts nothing new.
        page.goto(link)
        page.click("[data-testid=continue-ticket-session]")
        page.wait_for_selector("[data-testid=step-card]")
        assert page.url.endswith(f"/s/{sid}")
        wait_synced(page)
        mine = http.get("/api/v1/sessions", headers=engineer.headers).json()["items"]
        assert [s["id"] for s in mine if s.get("ticket") == "T20261203.0042"] == [f"session:{sid}"]


def test_the_link_names_the_tree_and_works_offline(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    with signed_in_page(browser, server.url, engineer, DESKTOP, offline_ready=True) as (ctx, page):
        ctx.set_offline(True)
        # A tree named by the link wins over the summary's suggestions; no summary is needed.
        page.goto(start_link(server.url, id="88412", tree="dns-resolution-failure", company="Nobody Inc"))
        page.wait_for_selector("[data-testid=ticket-heading]:text-is('Ticket 88412')")
        assert page.is_checked("input[name=tree][value='tree:dns-resolution-failure']")
        assert page.input_value("#client") == ""
        page.wait_for_selector("text=No client named “Nobody Inc” on this device")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=step-card]")
        assert current_node(page)
        sid = page.url.rsplit("/s/", 1)[1]
        ctx.set_offline(False)
        wait_synced(page)
        header = http.get(f"/api/v1/sessions/{sid}", headers=engineer.headers).json()["header"]
        assert (header["ticket"], header["tree_id"]) == ("88412", "tree:dns-resolution-failure")


def test_a_summary_matching_no_tree_offers_the_library_search(browser, http, server):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    with signed_in_page(browser, server.url, engineer, DESKTOP) as (_ctx, page):
        page.goto(start_link(server.url, ticket="T-7", summary="Zebra labels smudged"))
        page.wait_for_selector("[data-testid=no-suggestion]")
        assert page.is_disabled("button[type=submit]")
        page.fill("#tree-search", "printer")
        page.click("[data-testid=tree-choices] >> text=Printer or Print Spooler Failures")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=step-card]")


class _PsaPage(http.server.BaseHTTPRequestHandler):
    """The PSA's screen: a page that frames Branchline's start link, as a pod does."""

    frame_src = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><title>PSA ticket</title><h1>Ticket 5521</h1>"
            f'<iframe id="pod" src="{self.frame_src}" width="420" height="700"></iframe>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def psa_page():
    servers = []

    def serve(port: int, frame_src: str) -> str:
        handler = type("Handler", (_PsaPage,), {"frame_src": frame_src})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://localhost:{port}/ticket"

    yield serve
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_a_psa_pod_frames_the_start_link_and_it_opens_in_a_tab_signed_in_after_sign_in(
    browser, http, server, psa_page
):
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    link = start_link(server.url, id="5521", summary="Outlook not syncing new mail")
    ctx = browser.new_context(viewport=DESKTOP)
    try:
        page = ctx.new_page()
        page.goto(psa_page(PSA_PORT, link))
        # The browser keeps no storage for Branchline in the PSA's frame (Chromium blocks
        # third-party storage): the pod shows the ticket and a way out, not a broken app.
        pod = page.frame_locator("#pod")
        pod.locator("h1:text-is('Ticket 5521')").wait_for()
        shot(page, "ticket-start-in-pod")
        with ctx.expect_page() as opened:
            pod.locator("[data-testid=open-in-branchline]").click()
        tab = opened.value
        # Signed out in the new tab: signing in leads back to the ticket's start page.
        tab.wait_for_selector("#email")
        tab.fill("#email", engineer.email)
        tab.fill("#password", engineer.password)
        tab.click("button[type=submit]")
        tab.wait_for_selector("[data-testid=ticket-heading]:text-is('Ticket 5521')")
        tab.wait_for_selector("input[name=tree][value='tree:outlook-m365-not-syncing']:checked")
        tab.click("button[type=submit]")
        tab.wait_for_selector("[data-testid=step-card]")

        # An origin not named in BRANCHLINE_EMBED_ORIGINS gets no frame of Branchline at all.
        other = ctx.new_page()
        other.goto(psa_page(free_port(), link))
        frame = other.frames[-1]
        frame.wait_for_load_state()
        assert frame.url.startswith("chrome-error://"), frame.url
    finally:
        ctx.close()


def test_only_the_app_pages_may_be_framed_and_only_by_the_named_origins(http, tenant):
    page = http.get("/start?ticket=1")
    assert f"frame-ancestors {PSA_ORIGIN};" in page.headers["content-security-policy"] + ";"
    assert "x-frame-options" not in page.headers
    for path in ("/api/v1/me", f"/sync/{tenant.id}/", "/share/nope", "/openapi.json"):
        r = http.get(path, headers=tenant.headers)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY", path


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("http://psa.example.com", "must be https://"),
        ("https://*.myconnectwise.net", "no wildcard"),
        ("https://na.myconnectwise.net/v4_6_release", "no path"),
        ("na.myconnectwise.net", "must be https://"),
    ],
)
def test_a_bad_embed_origin_stops_start_up_saying_how_to_write_it(tmp_path, value, says):
    with pytest.raises(SettingsError) as err:
        Settings(data_dir=tmp_path, secret_key="x" * 40, embed_origins=f"https://ok.example.com, {value}")
    assert says in str(err.value) and "BRANCHLINE_EMBED_ORIGINS" in str(err.value)
    good = Settings(
        data_dir=tmp_path, secret_key="x" * 40, embed_origins="https://a.example.com/, http://localhost:8080"
    )
    assert good.frame_ancestors == ("https://a.example.com", "http://localhost:8080")


def test_a_pod_link_with_only_the_ticket_number_asks_connectwise_for_the_summary(browser, http, server):
    """A ConnectWise pod passes the ticket's id alone: online, the page reads the ticket's
    summary from the team's ConnectWise and suggests the tree from it."""
    tenant = Tenant(http, starter_library=True)
    engineer = tenant.add_user("engineer")
    cw = FakeConnectWise().start()
    try:
        r = http.put("/api/v1/integrations/connectwise", headers=tenant.headers, json=cw.config())
        assert r.status_code == 200, r.text
        ticket = cw.add_ticket("Site-to-site VPN tunnel to the branch office keeps dropping", status="New")
        with signed_in_page(browser, server.url, engineer, MOBILE) as (_ctx, page):
            page.goto(start_link(server.url, id=str(ticket)))
            page.wait_for_selector(f"[data-testid=ticket-heading]:text-is('Ticket {ticket}')")
            page.wait_for_selector("[data-testid=ticket-summary]:has-text('keeps dropping')")
            assert page.inner_text("[data-testid=ticket-from-psa]").startswith("From ConnectWise · New")
            first = page.locator("[data-testid=tree-choices] li").first
            assert "SonicWall VPN Tunnel Down" in first.inner_text()
            assert page.is_checked(f"input[name=tree][value='{VPN_TREE}']")
            shot(page, "ticket-start-from-connectwise")
            page.click("button[type=submit]")
            page.wait_for_url("**/s/*")
            wait_synced(page)
        sessions = http.get("/api/v1/sessions", headers=engineer.headers).json()["items"]
        [mine] = [s for s in sessions if s.get("ticket") == str(ticket)]
        assert mine["title"] == "Site-to-site VPN tunnel to the branch office keeps dropping"
    finally:
        cw.stop()
