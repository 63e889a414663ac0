"""Publish reviews are e-mailed: a request to the workspace's reviewers (never the requester),
a decision to the requester, through a real SMTP server, user text escaped."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.mail.smtp import SmtpServer, env_for, running, server_knowing_its_address
from tests.trees_api.test_trees_api import small_tree

SMTP = SmtpServer()
SERVER_ENV = env_for(SMTP)
TITLE = 'Printer <img src=x onerror="alert(1)"> offline'

smtp = running(SMTP)
server = server_knowing_its_address(SERVER_ENV)


def test_reviewers_hear_of_a_request_and_the_requester_of_the_decision(http, smtp):
    tenant = Tenant(http, name="Northwind Support")
    r = http.put(
        "/api/v1/tenant/brand", headers=tenant.headers, json={"name": "Northwind", "primary_color": "#9a3412"}
    )
    assert r.status_code == 200, r.text
    author = tenant.add_user("author")
    admin = tenant.add_user("admin")
    named = tenant.add_user("engineer")
    r = http.patch(f"/api/v1/users/{named.id}", headers=tenant.headers, json={"reviewer": True})
    assert r.status_code == 200, r.text
    plain = tenant.add_user("engineer")

    r = http.post("/api/v1/trees", headers=author.headers, json=small_tree(title=TITLE))
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    note = "Check the <script>alert('x')</script> step & the new one."
    r = http.post(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers, json={"note": note})
    assert r.status_code == 201, r.text
    review = r.json()
    told = sorted(m["to"] for m in review["mail"]["queued"])
    assert told == sorted([tenant.owner_email, admin.email, named.email])

    for address in (tenant.owner_email, admin.email, named.email):
        got = smtp.wait_for(address)
        assert len(got) == 1 and got[0].rcpt_tos == [address]  # one message each, nobody else's address
        msg = got[0].message
        assert msg["Subject"] == f"[Northwind] Review requested: {TITLE}"
        assert msg["From"].addresses[0].display_name == "Northwind"
        html, text = got[0].html(), got[0].text()
        assert "&lt;script&gt;" in html and "<script>" not in html
        assert "&lt;img src=x" in html and "<img src=x" not in html
        assert note in text and "/review" in text and tree_id.replace(":", "%3A") in text
        assert "background:#9a3412" in html
    assert smtp.to(author.email) == [] and smtp.to(plain.email) == []

    r = http.post(
        f"/api/v1/trees/{tree_id}/reviews/{review['id']}/reject",
        headers=admin.headers,
        json={"comment": "Say which <b>printer</b>."},
    )
    assert r.status_code == 200, r.text
    assert [m["to"] for m in r.json()["mail"]["queued"]] == [author.email]
    got = smtp.wait_for(author.email)[0]
    assert got.message["Subject"] == f"[Northwind] Changes requested: {TITLE}"
    assert "Say which <b>printer</b>." in got.text() and "Say which &lt;b&gt;printer&lt;/b&gt;." in got.html()
    assert "Admin" in got.text()  # who asked for the changes

    # A new request on the edited draft, approved: the requester hears of it too.
    draft = http.get(f"/api/v1/trees/{tree_id}", headers=author.headers).json()
    draft["description"] = "Which printer: named now."
    assert http.put(f"/api/v1/trees/{tree_id}", headers=author.headers, json=draft).status_code == 200
    second = http.post(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers, json={"note": ""}).json()
    r = http.post(f"/api/v1/trees/{tree_id}/reviews/{second['id']}/approve", headers=named.headers, json={})
    assert r.status_code == 200, r.text
    got = smtp.wait_for(author.email, count=2)[1]
    assert got.message["Subject"] == f"[Northwind] Approved: {TITLE}"
    assert "approved your draft" in got.text()


def test_a_named_reviewer_outside_a_scoped_trees_teams_is_not_told(http, smtp):
    tenant = Tenant(http, name="Scoped Reviews IT")
    author = tenant.add_user("author")
    inside = tenant.add_user("engineer")
    outside = tenant.add_user("engineer")
    for member in (inside, outside):
        r = http.patch(f"/api/v1/users/{member.id}", headers=tenant.headers, json={"reviewer": True})
        assert r.status_code == 200, r.text
    r = http.post(
        "/api/v1/teams", headers=tenant.headers, json={"name": "Citrix", "members": [author.id, inside.id]}
    )
    assert r.status_code == 201, r.text
    team_id = r.json()["id"]
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree(title="Scoped tree")).json()[
        "id"
    ]
    r = http.put(
        f"/api/v1/trees/{tree_id}/teams", headers=tenant.headers, json={"teams": {team_id: ["run", "edit"]}}
    )
    assert r.status_code == 200, r.text
    r = http.post(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers, json={"note": "scoped"})
    assert r.status_code == 201, r.text
    assert sorted(m["to"] for m in r.json()["mail"]["queued"]) == sorted([tenant.owner_email, inside.email])
    smtp.wait_for(inside.email)
    assert smtp.to(outside.email) == []


def test_an_authors_forged_host_never_reaches_the_reviewers_link(http, server, smtp):
    tenant = Tenant(http, name="Phish Proof IT")
    author = tenant.add_user("author")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree(title="Host test")).json()[
        "id"
    ]
    r = http.post(
        f"/api/v1/trees/{tree_id}/reviews",
        headers={**author.headers, "Host": "attacker.example"},
        json={"note": "look"},
    )
    assert r.status_code == 201, r.text
    text = smtp.wait_for(tenant.owner_email)[0].text()
    assert f"{server.url}/editor/" in text and "attacker.example" not in text
