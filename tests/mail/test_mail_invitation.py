"""Invitations are e-mailed in the workspace's brand through a real SMTP server (aiosmtpd),
and the link in the message lets the invitee in (issue #19 point 4)."""

from __future__ import annotations

import re

from tests.brand.test_brand_api import png
from tests.conftest import STRONG_PASSWORD, Tenant, unique_email, wait_until
from tests.mail.smtp import SmtpServer, env_for, running, server_knowing_its_address

SMTP = SmtpServer()
SERVER_ENV = env_for(SMTP)

smtp = running(SMTP)
server = server_knowing_its_address(SERVER_ENV)


def invite(http, tenant: Tenant, email: str, name: str = "Ines", role: str = "engineer") -> dict:
    r = http.post(
        "/api/v1/users/invite",
        headers=tenant.headers,
        json={"email": email, "display_name": name, "role": role},
    )
    assert r.status_code == 201, r.text
    return r.json()


def link_in(text: str) -> str:
    found = re.search(r"https?://\S+/accept-invite#token=\S+", text)
    assert found, text
    return found.group(0)


def mail_item(http, tenant: Tenant, mail_id: str) -> dict:
    items = http.get("/api/v1/mail", headers=tenant.headers).json()["items"]
    return next(m for m in items if m["id"] == mail_id)


def mail_when(http, tenant: Tenant, mail_id: str, status: str | None = None, attempts: int = 0) -> dict:
    """The outbox's entry once it has `status` (any when None) and at least `attempts` attempts."""

    def ready() -> dict | None:
        item = mail_item(http, tenant, mail_id)
        ok = (status is None or item["status"] == status) and item["attempt_count"] >= attempts
        return item if ok else None

    return wait_until(ready, message=f"message {mail_id} {status or ''} after {attempts} attempt(s)")


def branded(http, name: str, color: str, logo: bool = False) -> Tenant:
    tenant = Tenant(http, name=f"{name} workspace")
    r = http.put("/api/v1/tenant/brand", headers=tenant.headers, json={"name": name, "primary_color": color})
    assert r.status_code == 200, r.text
    if logo:
        r = http.put(
            "/api/v1/tenant/brand/logo",
            headers={**tenant.headers, "Content-Type": "image/png"},
            content=png(),
        )
        assert r.status_code == 200, r.text
    return tenant


def test_the_invitee_gets_a_branded_message_whose_link_signs_them_in(http, server, smtp):
    tenant = branded(http, "Contoso Support", "#0f766e", logo=True)
    email = unique_email("invitee")
    answer = invite(http, tenant, email, name="Ines <b>& co</b>")
    assert answer["emailed"] is True and answer["invite_url"]  # the link is still shown to copy
    assert answer["mail"]["configured"] is True and answer["mail"]["queued"][0]["to"] == email

    got = smtp.wait_for(email)
    assert len(got) == 1 and got[0].rcpt_tos == [email]
    msg = got[0].message
    assert msg["Subject"].startswith("[Contoso Support]") and "invited you" in msg["Subject"]
    assert msg["From"].addresses[0].display_name == "Contoso Support"
    assert msg["From"].addresses[0].addr_spec == "noreply@branchline.test"
    assert msg["To"].addresses[0].addr_spec == email
    text, html = got[0].text(), got[0].html()
    link = link_in(text)
    assert link == answer["invite_url"]  # no custom domain: the instance's own address
    assert "Contoso Support" in text and "Ines <b>& co</b>" in text  # plain text shows the name as typed
    # The HTML shows the brand's colour on the button with its contrast-checked text colour,
    # the user's text escaped, and the logo inline.
    assert "background:#0f766e;color:#ffffff" in html
    assert "Ines &lt;b&gt;&amp; co&lt;/b&gt;" in html and "<b>& co" not in html
    assert 'src="cid:logo@branchline"' in html
    logo = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(logo) == 1 and logo[0]["Content-ID"] == "<logo@branchline>" and logo[0].get_content() == png()
    assert "Contoso Support through Branchline" in html  # the footer names the workspace

    # The link works: the invitee sets a password through the API and signs in.
    token = link.split("#token=", 1)[1]
    r = http.post("/api/v1/auth/invitation", json={"token": token})
    assert r.status_code == 200 and r.json()["email"] == email, r.text
    r = http.post("/api/v1/auth/accept-invite", json={"token": token, "password": STRONG_PASSWORD})
    assert r.status_code == 200, r.text
    r = http.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert r.status_code == 200, r.text

    item = mail_when(http, tenant, answer["mail"]["queued"][0]["id"], "delivered")
    assert item["kind"] == "invitation" and item["to"] == email and item["attempt_count"] == 1
    assert "token" not in str(item)  # the outbox never shows the link


def test_resending_emails_a_new_link_and_the_old_one_stops_working(http, smtp):
    tenant = branded(http, "Resend IT", "#7c2d12")
    email = unique_email("resend")
    first = invite(http, tenant, email)
    old = link_in(smtp.wait_for(email)[0].text())
    r = http.post(f"/api/v1/users/{first['id']}/invite", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["emailed"] is True, r.text
    new = link_in(smtp.wait_for(email, count=2)[1].text())
    assert new != old and new == r.json()["invite_url"]
    r = http.post("/api/v1/auth/invitation", json={"token": old.split("#token=", 1)[1]})
    assert r.status_code == 401, r.text
    r = http.post("/api/v1/auth/invitation", json={"token": new.split("#token=", 1)[1]})
    assert r.status_code == 200, r.text


def test_two_workspaces_each_send_in_their_own_brand(http, smtp):
    red = branded(http, "Red Ridge MSP", "#b91c1c")
    blue = branded(http, "Blue Harbor IT", "#1e3a8a")
    to_red, to_blue = unique_email("red"), unique_email("blue")
    invite(http, red, to_red)
    invite(http, blue, to_blue)
    red_msg, blue_msg = smtp.wait_for(to_red)[0], smtp.wait_for(to_blue)[0]
    assert red_msg.message["From"].addresses[0].display_name == "Red Ridge MSP"
    assert blue_msg.message["From"].addresses[0].display_name == "Blue Harbor IT"
    assert "background:#b91c1c" in red_msg.html() and "Blue Harbor" not in red_msg.html()
    assert "background:#1e3a8a" in blue_msg.html() and "Red Ridge" not in blue_msg.html()
    # Each workspace's outbox lists its own message only.
    red_items = http.get("/api/v1/mail", headers=red.headers).json()["items"]
    assert [m["to"] for m in red_items] == [to_red]


def test_a_verified_custom_domain_is_where_the_link_points(http, server, smtp):
    from tests.brand.test_custom_domain import verify

    tenant = branded(http, "Domain Co", "#1d4ed8")
    domain = f"help-{tenant.id[:8].lower()}.example-msp.com"
    r = http.put(
        "/api/v1/tenant/brand",
        headers=tenant.headers,
        json={"name": "Domain Co", "primary_color": "#1d4ed8", "custom_domain": domain},
    )
    assert r.status_code == 200, r.text
    email = unique_email("unverified")
    invite(http, tenant, email)
    assert link_in(smtp.wait_for(email)[0].text()).startswith(server.url)  # not verified yet
    assert verify(server, domain).returncode == 0
    email = unique_email("verified")
    invite(http, tenant, email)
    assert link_in(smtp.wait_for(email)[0].text()).startswith(f"https://{domain}/accept-invite#token=")


def test_a_line_break_in_a_name_never_makes_a_header(http, smtp):
    tenant = branded(http, "Header Safe", "#1d4ed8")
    email = unique_email("crlf")
    invite(http, tenant, email, name="Eve\r\nBcc: victim@evil.test\r\nSubject: pwned")
    got = smtp.wait_for(email)[0]
    assert got.rcpt_tos == [email]  # nobody else got it
    msg = got.message
    assert msg["Bcc"] is None and len(msg.get_all("Subject")) == 1 and "pwned" not in msg["Subject"]
    to = msg["To"].addresses[0]
    assert to.addr_spec == email and "\n" not in to.display_name and "\r" not in to.display_name
    headers = got.raw.split(b"\r\n\r\n", 1)[0]
    assert (
        b"\r\nBcc:" not in headers and headers.count(b"\r\nSubject:") + headers.startswith(b"Subject:") == 1
    )


def test_a_permanent_refusal_stops_at_once_with_the_servers_reason(http, smtp):
    tenant = branded(http, "Refused Co", "#1d4ed8")
    email = unique_email("nobody")
    smtp.refuse.add(email)
    answer = invite(http, tenant, email)
    mail_id = answer["mail"]["queued"][0]["id"]
    item = mail_when(http, tenant, mail_id, "failed")
    assert item["attempt_count"] == 1  # a 550 is not retried
    assert "550" in item["last_error"] and "No such mailbox" in item["last_error"]
    assert item["attempts"][0]["status_code"] == 550
    assert smtp.to(email) == []


def test_a_temporary_refusal_is_retried_until_it_goes_through(http, smtp):
    tenant = branded(http, "Greylisted Co", "#1d4ed8")
    email = unique_email("greylisted")
    smtp.later.add(email)
    answer = invite(http, tenant, email)
    mail_id = answer["mail"]["queued"][0]["id"]
    item = mail_when(http, tenant, mail_id, attempts=2)
    assert item["status"] in ("pending", "sending") and "451" in str(item["attempts"][0]["status_code"])
    smtp.later.discard(email)
    smtp.wait_for(email)
    item = mail_when(http, tenant, mail_id, "delivered")
    assert len(smtp.to(email)) == 1


def test_a_mail_server_down_then_up_gets_the_message_once(http, smtp):
    tenant = branded(http, "Outage Co", "#1d4ed8")
    email = unique_email("outage")
    smtp.stop()
    try:
        answer = invite(http, tenant, email)
        mail_id = answer["mail"]["queued"][0]["id"]
        item = mail_when(http, tenant, mail_id, attempts=2)
        assert item["status"] in ("pending", "sending")
        assert "connection refused" in item["attempts"][0]["error"]
        # The operator's relay is not the workspace's business: its address stays in the server log.
        assert f":{smtp.port}" not in item["attempts"][0]["error"] + str(item["last_error"])
    finally:
        smtp.start()
    smtp.wait_for(email)
    item = mail_when(http, tenant, mail_id, "delivered")
    # Delivered once, whatever the number of attempts before.
    r = http.post(f"/api/v1/users/{answer['id']}/invite", headers=tenant.headers)  # a later, separate send
    assert r.status_code == 200
    smtp.wait_for(email, count=2)
    assert len(smtp.to(email)) == 2 and item["attempt_count"] >= 3


def test_members_other_than_admins_cannot_read_the_outbox(http, tenant):
    engineer = tenant.add_user("engineer")
    r = http.get("/api/v1/mail", headers=engineer.headers)
    assert r.status_code == 403 and set(r.json()) >= {"error", "reason"}
    r = http.get("/api/v1/mail", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["configured"] is True
    assert r.json()["sender"] == "noreply@branchline.test"


def test_names_beyond_ascii_arrive_as_written(http, smtp):
    tenant = branded(http, "Café Ørsted IT", "#1d4ed8")
    email = unique_email("zoe")
    invite(http, tenant, email, name="Zoë Ünal")
    got = smtp.wait_for(email)[0]
    assert got.message["From"].addresses[0].display_name == "Café Ørsted IT"
    assert got.message["To"].addresses[0].display_name == "Zoë Ünal"
    assert got.message["Subject"].startswith("[Café Ørsted IT]")
    assert "Zoë Ünal" in got.text() and "Zoë Ünal" in got.html()
    assert max(got.raw) < 128  # sent as 7-bit: encoded words and transfer encodings, for any server


def test_the_workspace_archive_leaves_the_mail_outbox_behind(http, server, smtp):
    # Queued messages are sealed with this instance's key, and an invitation link signs its
    # holder in: neither may leave in a download (api/backups/archive.py).
    import io
    import zipfile

    tenant = Tenant(http)
    email = unique_email("archived")
    answer = invite(http, tenant, email)
    link = link_in(smtp.wait_for(email)[0].text())
    mail_when(http, tenant, answer["mail"]["queued"][0]["id"], "delivered")
    r = http.get("/api/v1/backups/archive", headers=tenant.headers)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        everything = b"".join(zf.read(n) for n in names)
    assert "databases/mail.ndjson" not in names and "databases/sessions.ndjson" in names
    assert link.split("#token=", 1)[1].encode() not in everything
