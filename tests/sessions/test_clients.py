"""Client contexts over the API: `GET/POST /api/v1/clients`, `GET/PUT /api/v1/clients/{id}`."""

from __future__ import annotations


def test_create_read_update_with_rev(http, tenant):
    r = http.post(
        "/api/v1/clients",
        headers=tenant.headers,
        json={
            "name": "Contoso Ltd",
            "values": {"domain": "contoso.local", "dc": "CON-DC01"},
            "notes": "After-hours changes need approval.",
        },
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["_id"] == "client:contoso-ltd" and doc["type"] == "client" and doc["schema_version"] == 1
    again = http.post("/api/v1/clients", headers=tenant.headers, json={"name": "Contoso Ltd"}).json()
    assert again["_id"] == "client:contoso-ltd-2"
    got = http.get("/api/v1/clients/contoso-ltd", headers=tenant.headers).json()
    assert got["values"]["dc"] == "CON-DC01" and got["_rev"] == doc["_rev"]
    r = http.put(
        "/api/v1/clients/client:contoso-ltd",
        headers=tenant.headers,
        json={"_rev": doc["_rev"], "name": "Contoso", "values": {"domain": "contoso.com"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Contoso" and r.json()["values"] == {"domain": "contoso.com"}
    r = http.put(
        "/api/v1/clients/client:contoso-ltd",
        headers=tenant.headers,
        json={"_rev": doc["_rev"], "name": "stale"},
    )
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = http.put("/api/v1/clients/client:contoso-ltd", headers=tenant.headers, json={"name": "no rev"})
    assert r.status_code == 400 and "_rev" in r.json()["reason"]


def test_explicit_ids_and_bad_bodies(http, tenant):
    r = http.post(
        "/api/v1/clients", headers=tenant.headers, json={"_id": "client:fabrikam", "name": "Fabrikam"}
    )
    assert r.status_code == 201
    r = http.post(
        "/api/v1/clients", headers=tenant.headers, json={"_id": "client:fabrikam", "name": "Fabrikam"}
    )
    assert r.status_code == 409
    for body in (
        {},
        {"name": ""},
        {"name": "x", "values": [1]},
        {"name": "x", "colour": "red"},
        {"_id": "Fab Rikam", "name": "x"},
    ):
        r = http.post("/api/v1/clients", headers=tenant.headers, json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"] == "bad_request"
    assert http.get("/api/v1/clients/client:nobody", headers=tenant.headers).status_code == 404


def test_roles_every_role_reads_viewers_do_not_write(http, tenant):
    viewer, engineer = tenant.add_user("viewer"), tenant.add_user("engineer")
    r = http.post("/api/v1/clients", headers=engineer.headers, json={"name": "Northwind"})
    assert r.status_code == 201
    assert http.get("/api/v1/clients/client:northwind", headers=viewer.headers).status_code == 200
    r = http.post("/api/v1/clients", headers=viewer.headers, json={"name": "Nope"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_list_pages_in_id_order(http, tenant):
    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        assert http.post("/api/v1/clients", headers=tenant.headers, json={"name": name}).status_code == 201
    seen, cursor = [], None
    while True:
        r = http.get(
            "/api/v1/clients",
            headers=tenant.headers,
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        assert r.status_code == 200, r.text
        seen += [c["_id"] for c in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == ["client:alpha", "client:bravo", "client:charlie", "client:delta", "client:echo"]


def test_clients_written_over_sync_show_in_the_api(http, tenant):
    r = http.put(
        f"/sync/{tenant.id}/clients/client:synced",
        headers=tenant.headers,
        json={"type": "client", "schema_version": 1, "name": "Synced", "values": {}},
    )
    assert r.status_code == 201
    assert http.get("/api/v1/clients/client:synced", headers=tenant.headers).json()["name"] == "Synced"
