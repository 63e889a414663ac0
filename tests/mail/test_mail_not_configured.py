"""Without BRANCHLINE_SMTP_URL nothing is e-mailed, and every answer that would have sent
mail says so; the invitation link is still answered, to be passed on by hand."""

from __future__ import annotations

from tests.conftest import unique_email
from tests.trees_api.test_trees_api import small_tree


def test_nothing_is_sent_and_the_answers_say_so(http, tenant):
    r = http.post(
        "/api/v1/users/invite",
        headers=tenant.headers,
        json={"email": unique_email("ines"), "role": "engineer"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["emailed"] is False and body["invite_url"].startswith("http")
    assert body["mail"]["configured"] is False and body["mail"]["queued"] == []
    assert "BRANCHLINE_SMTP_URL" in body["mail"]["reason"] and "yourself" in body["mail"]["reason"]

    r = http.post(f"/api/v1/users/{body['id']}/invite", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["emailed"] is False, r.text

    author = tenant.add_user("author")
    tree_id = http.post("/api/v1/trees", headers=author.headers, json=small_tree()).json()["id"]
    r = http.post(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers, json={"note": "n"})
    assert r.status_code == 201 and r.json()["mail"]["configured"] is False, r.text

    r = http.post("/api/v1/auth/forgot-password", json={"email": tenant.owner_email})
    assert r.status_code == 202 and r.json()["configured"] is False and r.json()["emailed"] is False
    assert "admin" in r.json()["message"]

    listed = http.get("/api/v1/mail", headers=tenant.headers).json()
    assert listed == {"configured": False, "sender": None, "items": [], "next_cursor": None}
