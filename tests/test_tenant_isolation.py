"""Tenant isolation, route by route.

Every route the application registers must have an entry below. For a route that reaches a
tenant's objects, a factory creates a real object in tenant B; tenant A's owner then gets a
403 or 404 for it (and the object is unchanged), while B's own owner gets a 2xx. Routes that
act on the caller's own tenant ("self") must not reveal any of B's ids; public routes are
listed with the reason they hold no tenant data. A route added later without an entry fails
`test_every_route_has_an_isolation_case`, so new features must say how they are isolated.

The sync API is one door (not a route); its CouchDB endpoints are enumerated in SYNC_CASES.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from tests.conftest import ROOT, Tenant, unique_email


@dataclass
class Req:
    method: str
    url: str
    json: object = None
    content: bytes | None = None
    headers: dict = field(default_factory=dict)
    params: dict | None = None
    ok: tuple = (200, 201, 202, 204)


@dataclass
class World:
    """Tenants A and B, and a log of B's ids that must never show up in A's answers."""

    http: httpx.Client
    a: Tenant
    b: Tenant
    b_ids: set[str] = field(default_factory=set)

    def send(self, who: Tenant, req: Req) -> httpx.Response:
        return self.http.request(
            req.method,
            req.url,
            json=req.json,
            content=req.content,
            params=req.params,
            headers={**who.headers, **req.headers},
        )


# --- factories: each creates a real object in B and returns the request that reaches it --------


def _b_invitee(w: World) -> str:
    r = w.http.post(
        "/api/v1/users/invite", headers=w.b.headers, json={"email": unique_email(), "role": "viewer"}
    )
    w.b_ids.add(r.json()["id"])
    return r.json()["id"]


def _b_user(w: World) -> str:
    r = w.http.post(
        "/api/v1/users",
        headers=w.b.headers,
        json={"email": unique_email(), "role": "engineer", "password": "correct horse battery staple 42"},
    )
    w.b_ids.add(r.json()["id"])
    return r.json()["id"]


def _b_key(w: World) -> str:
    r = w.http.post("/api/v1/api-keys", headers=w.b.headers, json={"name": "b key", "role": "viewer"})
    w.b_ids.add(r.json()["id"])
    return r.json()["id"]


def _b_doc(w: World, db: str = "clients", body: dict | None = None) -> tuple[str, str]:
    docid = f"client:iso-{len(w.b_ids)}"
    r = w.http.put(
        f"/sync/{w.b.id}/{db}/{docid}",
        headers=w.b.headers,
        json={"type": "client", "name": "B's client", **(body or {})},
    )
    assert r.status_code == 201, r.text
    w.b_ids.add(docid)
    return docid, r.json()["rev"]


def _b_extra_db(w: World) -> str:
    name = f"extra{len(w.b_ids)}"
    assert w.http.put(f"/sync/{w.b.id}/{name}", headers=w.b.headers).status_code == 201
    return name


def _b_session(w: World) -> dict:
    """A session in B (on a tree B published once), as `POST /api/v1/sessions` answered it."""
    tree_id = getattr(w, "_b_tree", None)
    if tree_id is None:
        from tests.trees.factories import valid_tree

        tree_id = w.http.post("/api/v1/trees", headers=w.b.headers, json=valid_tree()).json()["id"]
        assert w.http.post(f"/api/v1/trees/{tree_id}/publish", headers=w.b.headers, json={}).status_code in (
            200,
            201,
        )
        w._b_tree = tree_id
    r = w.http.post(
        "/api/v1/sessions", headers=w.b.headers, json={"tree_id": tree_id, "client_id": _b_client(w)}
    )
    assert r.status_code == 201, r.text
    w.b_ids.add(r.json()["session_id"])
    return r.json()


def _b_client(w: World) -> str:
    r = w.http.post("/api/v1/clients", headers=w.b.headers, json={"name": f"B client {len(w.b_ids)}"})
    assert r.status_code == 201, r.text
    w.b_ids.add(r.json()["_id"])
    return r.json()["_id"]


def _sync(w: World, path: str) -> str:
    return f"/sync/{w.b.id}/{path}"


def _b_tree(w: World, publish: bool = False) -> str:
    from tests.trees_api.test_trees_api import small_tree

    r = w.http.post("/api/v1/trees", headers=w.b.headers, json=small_tree(title=f"B tree {len(w.b_ids)}"))
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    w.b_ids.add(tree_id)
    if publish:
        assert w.http.post(f"/api/v1/trees/{tree_id}/publish", headers=w.b.headers).status_code == 201
    return tree_id


def _b_team(w: World) -> str:
    r = w.http.post("/api/v1/teams", headers=w.b.headers, json={"name": "B team", "members": []})
    assert r.status_code == 201, r.text
    w.b_ids.add(r.json()["id"])
    return r.json()["id"]


def _b_scoped_tree(w: World) -> str:
    """A published tree of B's scoped to a team of B's."""
    tree_id = _b_tree(w, True)
    r = w.http.put(
        f"/api/v1/trees/{tree_id}/teams", headers=w.b.headers, json={"teams": {_b_team(w): ["run"]}}
    )
    assert r.status_code == 200, r.text
    return tree_id


def _b_review(w: World) -> tuple[str, str]:
    """A tree B's author edited and asked B to review: B's owner may approve it."""
    from tests.trees_api.test_trees_api import small_tree

    author = w.b.add_user("author")
    r = w.http.post("/api/v1/trees", headers=author.headers, json=small_tree(title=f"B tree {len(w.b_ids)}"))
    assert r.status_code == 201, r.text
    tree_id = r.json()["id"]
    r = w.http.post(f"/api/v1/trees/{tree_id}/reviews", headers=author.headers, json={"note": "Please look"})
    assert r.status_code == 201, r.text
    w.b_ids |= {tree_id, r.json()["id"], author.id}
    return tree_id, r.json()["id"]


def _b_script(w: World, publish: bool = False) -> str:
    from tests.scripts.factories import small_script

    r = w.http.post(
        "/api/v1/scripts", headers=w.b.headers, json=small_script(name=f"B script {len(w.b_ids)}")
    )
    assert r.status_code == 201, r.text
    script_id = r.json()["id"]
    w.b_ids.add(script_id)
    if publish:
        assert w.http.post(f"/api/v1/scripts/{script_id}/publish", headers=w.b.headers).status_code == 201
    return script_id


def _b_engineer_figures(w: World) -> str:
    """A B engineer completes a session, so B's analytics hold personal figures that must not leak."""
    _b_session(w)
    email, password = unique_email("engineer"), "correct horse battery staple 42"
    r = w.http.post(
        "/api/v1/users", headers=w.b.headers, json={"email": email, "role": "engineer", "password": password}
    )
    w.b_ids.add(r.json()["id"])
    token = w.http.post("/api/v1/auth/login", json={"email": email, "password": password}).json()[
        "access_token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    r = w.http.post("/api/v1/sessions", headers=auth, json={"tree_id": w._b_tree})
    w.b_ids.add(r.json()["session_id"])
    r = w.http.post(
        f"/api/v1/sessions/{r.json()['session_id']}/events", headers=auth, json={"type": "completed"}
    )
    assert r.status_code == 201, r.text
    return w._b_tree


def _b_starter_offer(w: World) -> str:
    """B edits a starter tree before loading the library, so the library offers an update."""
    seed = json.loads((ROOT / "seeds/trees/dns-resolution-failure.json").read_text())
    w.http.post(
        "/api/v1/trees/import",
        headers=w.b.headers,
        params={"replace": "true"},
        json={**seed, "description": "B's own"},
    )
    assert w.http.post("/api/v1/starter-library/load", headers=w.b.headers).status_code == 200
    return seed["_id"]  # not in b_ids: every tenant may hold the starter trees under the same ids


def _b_attachment(w: World) -> tuple[str, str]:
    """A PNG stored in a session of B's: (session id, attachment id)."""
    import io

    from PIL import Image

    sid = _b_session(w)["session_id"]
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
    r = w.http.post(
        f"/api/v1/sessions/{sid}/attachments",
        headers={**w.b.headers, "Content-Type": "image/png"},
        params={"name": "b.png", "node_id": "scope"},
        content=out.getvalue(),
    )
    assert r.status_code == 201, r.text
    w.b_ids.add(r.json()["attachment_id"])
    return sid, r.json()["attachment_id"]


def _b_suggestion(w: World) -> tuple[str, dict]:
    """A custom step added in a session of B's: (tree id, the suggestion group naming it)."""
    sid = _b_session(w)["session_id"]
    r = w.http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=w.b.headers,
        json={"type": "custom_step", "node_id": "scope", "text": "Checked B's clock.", "answer": "done"},
    )
    assert r.status_code in (200, 201), r.text
    return w._b_tree, {"node_id": "scope", "text_key": "checked b's clock"}


def _png_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(out, "PNG")
    return out.getvalue()


# A public address given as a literal: no name to resolve on a machine without DNS.
_PUBLIC_HOOK = "https://93.184.215.14/branchline-hook"


def _b_webhook(w: World) -> str:
    r = w.http.post(
        "/api/v1/webhooks", headers=w.b.headers, json={"url": _PUBLIC_HOOK, "events": ["tree.published"]}
    )
    assert r.status_code == 201, r.text
    w.b_ids.add(r.json()["id"])
    return r.json()["id"]


def _b_delivery(w: World) -> tuple[str, str]:
    """A webhook of B's with one delivery in its log (a test message): (webhook id, delivery id)."""
    webhook_id = _b_webhook(w)
    r = w.http.post(f"/api/v1/webhooks/{webhook_id}/test", headers=w.b.headers)
    assert r.status_code == 200, r.text
    return webhook_id, r.json()["id"]


def _connectwise_config() -> dict:
    return {
        "site_url": "https://93.184.215.14",
        "company_id": "msp",
        "public_key": "pub",
        "private_key": "priv",
        "client_id": "client",
        "company": "Contoso",
        "board": "Service Desk",
    }


def _autotask_config() -> dict:
    return {
        "api_user": "api@msp.example",
        "secret": "s",
        "integration_code": "CODE",
        "company": 1,
        "queue_id": 2,
    }


def _b_psa_session(w: World) -> str:
    """A completed session of B's, with ConnectWise configured in B (so B's own push answers 202)."""
    r = w.http.put("/api/v1/integrations/connectwise", headers=w.b.headers, json=_connectwise_config())
    assert r.status_code == 200, r.text
    sid = _b_session(w)["session_id"]
    r = w.http.post(
        f"/api/v1/sessions/{sid}/events",
        headers=w.b.headers,
        json={"type": "completed", "outcome": "resolved"},
    )
    assert r.status_code in (200, 201), r.text
    return sid


def _b_psa_push(w: World) -> str:
    """A session of B's with a push queued in B."""
    sid = _b_psa_session(w)
    r = w.http.post(f"/api/v1/sessions/{sid}/psa", headers=w.b.headers, json={"system": "connectwise"})
    assert r.status_code == 202, r.text
    return sid


def _ninjaone_config() -> dict:
    return {
        "instance_url": "https://93.184.215.14",
        "client_id": "client",
        "client_secret": "secret",
        "runner_script_id": 1,
    }


def _datto_config() -> dict:
    return {"api_url": "https://93.184.215.14", "api_key": "k", "api_secret": "s", "component_uid": "c"}


def _b_script_run(w: World) -> tuple[str, str]:
    """(session id, run id) of a high-risk run a B engineer asked for, waiting for approval."""
    from tests.rmm.helpers import publish_script, session_at_action

    r = w.http.put("/api/v1/rmm/ninjaone", headers=w.b.headers, json=_ninjaone_config())
    assert r.status_code == 200, r.text
    # One script for every case of the world: its id is fixed, so a second publish conflicts.
    script_id = getattr(w, "_b_script", None)
    if script_id is None:
        script_id = w._b_script = publish_script(w.http, w.b, "isolation-check", "Get-Service", risk="high")
    engineer = w.b.add_user("engineer")
    _b_session(w)  # publishes B's tree once
    sid = session_at_action(w.http, w.b, engineer, w._b_tree)
    r = w.http.post(
        f"/api/v1/sessions/{sid}/script-runs",
        headers=engineer.headers,
        json={"node_id": "service", "script_id": script_id, "target": {"device_id": "1"}},
    )
    assert r.status_code == 202 and r.json()["status"] == "awaiting_approval", r.text
    w.b_ids.update({sid, r.json()["run_id"]})
    return sid, r.json()["run_id"]


def _sso_config() -> dict:
    suffix = unique_email("sso").split("@")[0].split("-")[1]
    return {
        "slug": f"iso-{suffix}",
        # A literal public address: saving checks the issuer's address without calling it.
        "oidc": {"issuer": "https://93.184.215.14", "client_id": "branchline", "client_secret": "s"},
        "allowed_domains": [f"{suffix}.example.org"],
    }


def _b_sso_domain(w: World) -> str:
    """An e-mail domain B's SSO settings list (saved anew: another case may replace them),
    pending its DNS proof."""
    body = _sso_config()
    r = w.http.put("/api/v1/tenant/sso", headers=w.b.headers, json=body)
    assert r.status_code == 200, r.text
    return body["allowed_domains"][0]


Factory = Callable[[World], Req]

API_CASES: dict[tuple[str, str], tuple[str, Factory | str]] = {
    # public: no tenant data behind them
    ("GET", "/healthz"): ("public", "reports only that the store answers"),
    ("POST", "/api/v1/auth/register"): ("public", "creates a new tenant; touches no existing one"),
    ("POST", "/api/v1/auth/login"): ("public", "checks credentials; answers tokens for the caller only"),
    ("POST", "/api/v1/auth/refresh"): ("public", "the refresh token itself is the credential"),
    ("POST", "/api/v1/auth/logout"): ("public", "the refresh token itself is the credential"),
    ("POST", "/api/v1/auth/accept-invite"): ("public", "the invitation token itself is the credential"),
    ("POST", "/api/v1/auth/forgot-password"): (
        "public",
        "answers the same for every address; the link goes only to the account's own mailbox",
    ),
    ("POST", "/api/v1/auth/password-reset"): ("public", "the reset token itself is the credential"),
    ("POST", "/api/v1/auth/reset-password"): ("public", "the reset token itself is the credential"),
    ("POST", "/api/v1/auth/invitation"): (
        "public",
        "the invitation token itself is the credential; it "
        "answers only the invitee's own address and team name",
    ),
    ("GET", "/{path:path}"): ("public", "the static web app"),
    ("GET", "/api/v1/auth/sso/lookup"): (
        "public",
        "answers only a team's SSO sign-in name and start address, which its members type anyway",
    ),
    ("GET", "/api/v1/auth/sso/{slug}/start"): (
        "public",
        "redirects to the team's IdP; reveals no tenant data",
    ),
    ("GET", "/api/v1/auth/sso/{slug}/callback"): (
        "public",
        "the state, bound to the browser that started the sign-in, is the credential (tests/sso)",
    ),
    ("POST", "/api/v1/auth/sso/{slug}/saml/acs"): (
        "public",
        "the signed assertion answering this browser's request is the credential (tests/sso)",
    ),
    ("GET", "/api/v1/auth/sso/{slug}/saml/metadata"): (
        "public",
        "Branchline's own SAML metadata for the team: its entity id and ACS, no tenant data",
    ),
    ("POST", "/api/v1/auth/sso/exchange"): ("public", "the one-time code itself is the credential"),
    # self: act on the caller's own tenant; answers must not contain B's ids
    ("GET", "/api/v1/me"): ("self", lambda w: Req("GET", "/api/v1/me")),
    ("PATCH", "/api/v1/me"): ("self", lambda w: Req("PATCH", "/api/v1/me", json={"display_name": "A"})),
    ("POST", "/api/v1/me/password"): (
        "self",
        lambda w: Req(
            "POST", "/api/v1/me/password", json={"current_password": "wrong", "new_password": "x"}, ok=(401,)
        ),
    ),
    ("GET", "/api/v1/users"): ("self", lambda w: Req("GET", "/api/v1/users")),
    ("GET", "/api/v1/users/directory"): ("self", lambda w: Req("GET", "/api/v1/users/directory")),
    ("POST", "/api/v1/users"): (
        "self",
        lambda w: Req("POST", "/api/v1/users", json={"email": unique_email(), "role": "viewer"}),
    ),
    ("POST", "/api/v1/users/invite"): (
        "self",
        lambda w: Req("POST", "/api/v1/users/invite", json={"email": unique_email(), "role": "viewer"}),
    ),
    ("GET", "/api/v1/teams"): ("self", lambda w: Req("GET", "/api/v1/teams")),
    ("POST", "/api/v1/teams"): ("self", lambda w: Req("POST", "/api/v1/teams", json={"name": "A team"})),
    ("GET", "/api/v1/api-keys"): ("self", lambda w: Req("GET", "/api/v1/api-keys")),
    ("POST", "/api/v1/api-keys"): ("self", lambda w: Req("POST", "/api/v1/api-keys", json={"name": "a"})),
    ("GET", "/api/v1/tenant"): ("self", lambda w: Req("GET", "/api/v1/tenant")),
    ("PATCH", "/api/v1/tenant"): (
        "self",
        lambda w: Req("PATCH", "/api/v1/tenant", json={"name": "A renamed"}),
    ),
    ("GET", "/api/v1/tenant/brand"): ("self", lambda w: Req("GET", "/api/v1/tenant/brand")),
    ("GET", "/api/v1/tenant/usage"): ("self", lambda w: Req("GET", "/api/v1/tenant/usage")),
    ("GET", "/api/v1/tenant/usage/warnings"): ("self", lambda w: Req("GET", "/api/v1/tenant/usage/warnings")),
    ("PUT", "/api/v1/tenant/brand"): (
        "self",
        lambda w: Req("PUT", "/api/v1/tenant/brand", json={"name": "A brand", "primary_color": "#1d4ed8"}),
    ),
    # The caller's own custom domain; A has none, so it is told to set one.
    ("POST", "/api/v1/tenant/brand/domain/verify"): (
        "self",
        lambda w: Req("POST", "/api/v1/tenant/brand/domain/verify", ok=(404,)),
    ),
    ("PUT", "/api/v1/tenant/brand/logo"): (
        "self",
        lambda w: Req("PUT", "/api/v1/tenant/brand/logo", content=_png_bytes()),
    ),
    # The public brand goes by the Host a request came to, never by the caller: on the main
    # address there is none, whoever asks.
    ("GET", "/api/v1/brand"): ("self", lambda w: Req("GET", "/api/v1/brand", ok=(204,))),
    ("GET", "/api/v1/brand/icon-{size}.png"): (
        "self",
        lambda w: Req("GET", "/api/v1/brand/icon-192.png", ok=(404,)),
    ),
    # object: B's object, reached with A's credentials
    ("GET", "/api/v1/users/{user_id}"): ("object", lambda w: Req("GET", f"/api/v1/users/{_b_user(w)}")),
    ("GET", "/api/v1/teams/{team_id}"): ("object", lambda w: Req("GET", f"/api/v1/teams/{_b_team(w)}")),
    ("PATCH", "/api/v1/teams/{team_id}"): (
        "object",
        lambda w: Req("PATCH", f"/api/v1/teams/{_b_team(w)}", json={"members": []}),
    ),
    ("DELETE", "/api/v1/teams/{team_id}"): (
        "object",
        lambda w: Req("DELETE", f"/api/v1/teams/{_b_team(w)}"),
    ),
    ("GET", "/api/v1/trees/{tree_id}/teams"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{_b_scoped_tree(w)}/teams"),
    ),
    ("PUT", "/api/v1/trees/{tree_id}/teams"): (
        "object",
        lambda w: Req("PUT", f"/api/v1/trees/{_b_scoped_tree(w)}/teams", json={"teams": {}}),
    ),
    ("PATCH", "/api/v1/users/{user_id}"): (
        "object",
        lambda w: Req("PATCH", f"/api/v1/users/{_b_user(w)}", json={"role": "viewer"}),
    ),
    ("POST", "/api/v1/users/{user_id}/invite"): (
        "object",
        lambda w: Req("POST", f"/api/v1/users/{_b_invitee(w)}/invite"),
    ),
    ("DELETE", "/api/v1/users/{user_id}/invite"): (
        "object",
        lambda w: Req("DELETE", f"/api/v1/users/{_b_invitee(w)}/invite"),
    ),
    ("DELETE", "/api/v1/api-keys/{key_id}"): (
        "object",
        lambda w: Req("DELETE", f"/api/v1/api-keys/{_b_key(w)}"),
    ),
    # webhooks (owners and admins of the caller's tenant)
    ("GET", "/api/v1/webhooks"): ("self", lambda w: Req("GET", "/api/v1/webhooks")),
    # the e-mail outbox: the caller's tenant's own `mail` database only
    ("GET", "/api/v1/mail"): ("self", lambda w: Req("GET", "/api/v1/mail")),
    ("POST", "/api/v1/webhooks"): (
        "self",
        lambda w: Req(
            "POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1/x", "events": []}, ok=(400,)
        ),
    ),
    ("GET", "/api/v1/webhooks/{webhook_id}"): (
        "object",
        lambda w: Req("GET", f"/api/v1/webhooks/{_b_webhook(w)}"),
    ),
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): (
        "object",
        lambda w: Req("PATCH", f"/api/v1/webhooks/{_b_webhook(w)}", json={"description": "A was here"}),
    ),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): (
        "object",
        lambda w: Req("DELETE", f"/api/v1/webhooks/{_b_webhook(w)}"),
    ),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): (
        "object",
        lambda w: Req("GET", f"/api/v1/webhooks/{_b_webhook(w)}/deliveries"),
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): (
        "object",
        lambda w: Req("POST", "/api/v1/webhooks/{}/deliveries/{}/retry".format(*_b_delivery(w))),
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): (
        "object",
        lambda w: Req("POST", f"/api/v1/webhooks/{_b_webhook(w)}/test"),
    ),
    # Single sign-on: the caller's own tenant's settings (tests/sso pins that a slug or e-mail
    # domain of one tenant cannot be claimed by another)
    ("GET", "/api/v1/tenant/sso"): ("self", lambda w: Req("GET", "/api/v1/tenant/sso")),
    ("PUT", "/api/v1/tenant/sso"): ("self", lambda w: Req("PUT", "/api/v1/tenant/sso", json=_sso_config())),
    ("GET", "/api/v1/auth/sso/logout-url"): ("self", lambda w: Req("GET", "/api/v1/auth/sso/logout-url")),
    # B's own domain reaches B's check (no TXT record on this server's DNS: 422, or 503 without
    # a resolver); A, which does not list it, gets 404 without any lookup.
    ("POST", "/api/v1/tenant/sso/domains/{domain}/verify"): (
        "object",
        lambda w: Req("POST", f"/api/v1/tenant/sso/domains/{_b_sso_domain(w)}/verify", ok=(422, 503)),
    ),
    # PSA connectors (owners and admins configure the caller's tenant; pushes reach a session)
    ("GET", "/api/v1/integrations"): ("self", lambda w: Req("GET", "/api/v1/integrations")),
    ("PUT", "/api/v1/integrations/connectwise"): (
        "self",
        lambda w: Req("PUT", "/api/v1/integrations/connectwise", json=_connectwise_config()),
    ),
    ("GET", "/api/v1/integrations/systems"): ("self", lambda w: Req("GET", "/api/v1/integrations/systems")),
    ("PUT", "/api/v1/integrations/autotask"): (
        "self",
        lambda w: Req("PUT", "/api/v1/integrations/autotask", json=_autotask_config()),
    ),
    # The test reads only the caller's own configuration (test_autotask_config.py pins that a
    # tenant without one gets 409 while another's is set); a real system here would call out
    # to the PSA from this test, so an unknown one shows the route's answer is the caller's.
    ("POST", "/api/v1/integrations/{system}/test"): (
        "self",
        lambda w: Req("POST", "/api/v1/integrations/halopsa/test", ok=(404,)),
    ),
    # Reads through the caller's own connector only (test_ticket_lookup.py pins that B's member
    # gets 409 while A's is set); a real system here would call out, as for the test route.
    ("GET", "/api/v1/integrations/{system}/tickets/{ticket}"): (
        "self",
        lambda w: Req("GET", "/api/v1/integrations/halopsa/tickets/48213", ok=(404,)),
    ),
    ("POST", "/api/v1/sessions/{session_id}/psa"): (
        "object",
        lambda w: Req("POST", f"/api/v1/sessions/{_b_psa_session(w)}/psa", json={"system": "connectwise"}),
    ),
    ("POST", "/api/v1/integrations/{system}/pushes/{session_id}/retry"): (
        "object",
        lambda w: Req(
            "POST", f"/api/v1/integrations/connectwise/pushes/{_b_psa_push(w)}/retry", ok=(202, 409)
        ),
    ),
    # RMM connectors (owners and admins configure the caller's tenant) and script runs (in a session)
    ("GET", "/api/v1/rmm"): ("self", lambda w: Req("GET", "/api/v1/rmm")),
    ("PUT", "/api/v1/rmm/ninjaone"): (
        "self",
        lambda w: Req("PUT", "/api/v1/rmm/ninjaone", json=_ninjaone_config()),
    ),
    ("PUT", "/api/v1/rmm/datto"): ("self", lambda w: Req("PUT", "/api/v1/rmm/datto", json=_datto_config())),
    # An unknown system (a real one would call out from this test; see the PSA test above).
    ("POST", "/api/v1/rmm/{system}/test"): (
        "self",
        lambda w: Req("POST", "/api/v1/rmm/kaseya/test", ok=(404,)),
    ),
    # Devices come from the caller's own RMM (a real one would call out from this test).
    ("GET", "/api/v1/rmm/{system}/devices"): (
        "self",
        lambda w: Req("GET", "/api/v1/rmm/kaseya/devices", ok=(404,)),
    ),
    ("POST", "/api/v1/sessions/{session_id}/script-runs"): (
        "object",
        lambda w: Req(
            "POST",
            f"/api/v1/sessions/{_b_script_run(w)[0]}/script-runs",
            json={"node_id": "service", "script_id": "script:isolation-check", "target": {"device_id": "1"}},
        ),
    ),
    ("GET", "/api/v1/sessions/{session_id}/script-runs"): (
        "object",
        lambda w: Req("GET", f"/api/v1/sessions/{_b_script_run(w)[0]}/script-runs"),
    ),
    ("GET", "/api/v1/sessions/{session_id}/script-runs/{run_id}"): (
        "object",
        lambda w: Req("GET", "/api/v1/sessions/{}/script-runs/{}".format(*_b_script_run(w))),
    ),
    ("POST", "/api/v1/sessions/{session_id}/script-runs/{run_id}/approve"): (
        "object",
        lambda w: Req("POST", "/api/v1/sessions/{}/script-runs/{}/approve".format(*_b_script_run(w))),
    ),
    # sessions and client contexts
    ("POST", "/api/v1/sessions"): (
        "self",
        lambda w: Req("POST", "/api/v1/sessions", json={"tree_id": "tree:no-such-tree"}, ok=(404,)),
    ),
    ("GET", "/api/v1/sessions"): ("self", lambda w: Req("GET", "/api/v1/sessions")),
    ("GET", "/api/v1/clients"): ("self", lambda w: Req("GET", "/api/v1/clients")),
    # (a refused body: a real client in A would break the empty-listing check below)
    ("POST", "/api/v1/clients"): (
        "self",
        lambda w: Req("POST", "/api/v1/clients", json={"name": ""}, ok=(400,)),
    ),
    ("GET", "/api/v1/sessions/{session_id}"): (
        "object",
        lambda w: Req("GET", f"/api/v1/sessions/{_b_session(w)['session_id']}"),
    ),
    ("PATCH", "/api/v1/sessions/{session_id}"): (
        "object",
        lambda w: Req(
            "PATCH",
            f"/api/v1/sessions/{(s := _b_session(w))['session_id']}",
            json={"_rev": s["header"]["_rev"], "ticket": "T-A"},
        ),
    ),
    ("POST", "/api/v1/sessions/{session_id}/events"): (
        "object",
        lambda w: Req(
            "POST",
            f"/api/v1/sessions/{_b_session(w)['session_id']}/events",
            json={"type": "note", "node_id": "scope", "text": "hi"},
        ),
    ),
    ("POST", "/api/v1/sessions/{session_id}/save-to-client"): (
        "object",
        lambda w: (
            s := _b_session(w),
            w.http.post(
                f"/api/v1/sessions/{s['session_id']}/events",
                headers=w.b.headers,
                json={"type": "input_value", "node_id": "vda", "value": "B-VDA"},
            ),
            Req("POST", f"/api/v1/sessions/{s['session_id']}/save-to-client", json={"node_id": "vda"}),
        )[-1],
    ),
    ("GET", "/api/v1/trees/{tree_id}/checklist"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{_b_tree(w, publish=True)}/checklist"),
    ),
    # read-only share links: B's session (and B's link) reached with A's credentials; the
    # public page is reached by its token alone, which names no tenant
    ("GET", "/share/{token}"): (
        "public",
        "the token is the credential; it opens exactly one session (tests/share/)",
    ),
    ("POST", "/api/v1/sessions/{session_id}/share-links"): (
        "object",
        lambda w: Req("POST", f"/api/v1/sessions/{_b_session(w)['session_id']}/share-links", json={}),
    ),
    ("GET", "/api/v1/sessions/{session_id}/share-links"): (
        "object",
        lambda w: Req("GET", f"/api/v1/sessions/{_b_session(w)['session_id']}/share-links"),
    ),
    ("DELETE", "/api/v1/sessions/{session_id}/share-links/{link_id}"): (
        "object",
        lambda w: (
            s := _b_session(w),
            link := w.http.post(
                f"/api/v1/sessions/{s['session_id']}/share-links", headers=w.b.headers, json={}
            ).json(),
            w.b_ids.add(link["id"]),
            Req("DELETE", f"/api/v1/sessions/{s['session_id']}/share-links/{link['id']}"),
        )[-1],
    ),
    ("GET", "/api/v1/clients/{client_id}"): (
        "object",
        lambda w: Req("GET", f"/api/v1/clients/{_b_client(w)}"),
    ),
    ("PUT", "/api/v1/clients/{client_id}"): (
        "object",
        lambda w: (
            c := _b_client(w),
            Req(
                "PUT",
                f"/api/v1/clients/{c}",
                json={
                    "_rev": w.http.get(f"/api/v1/clients/{c}", headers=w.b.headers).json()["_rev"],
                    "name": "renamed",
                },
            ),
        )[-1],
    ),
    # exports: a session of B's, exported or previewed with A's credentials; settings and
    # templates act on the caller's own tenant
    ("GET", "/api/v1/sessions/{session_id}/export"): (
        "object",
        lambda w: Req(
            "GET", f"/api/v1/sessions/{_b_session(w)['session_id']}/export", params={"format": "markdown"}
        ),
    ),
    ("GET", "/api/v1/sessions/{session_id}/export/preview"): (
        "object",
        lambda w: Req("GET", f"/api/v1/sessions/{_b_session(w)['session_id']}/export/preview"),
    ),
    ("GET", "/api/v1/export-settings"): ("self", lambda w: Req("GET", "/api/v1/export-settings")),
    # the audit log: only the caller's tenant's entries, whatever the filters name
    ("GET", "/api/v1/audit"): ("self", lambda w: Req("GET", "/api/v1/audit", params={"actor": _b_user(w)})),
    ("GET", "/api/v1/audit/settings"): ("self", lambda w: Req("GET", "/api/v1/audit/settings")),
    ("PUT", "/api/v1/audit/settings"): (
        "self",
        lambda w: Req("PUT", "/api/v1/audit/settings", json={"retention_days": 365}),
    ),
    ("GET", "/api/v1/audit/verify"): ("self", lambda w: Req("GET", "/api/v1/audit/verify")),
    # backups: the caller's workspace only (status, its own snapshots, its own archive)
    ("GET", "/api/v1/backups"): ("self", lambda w: Req("GET", "/api/v1/backups")),
    ("POST", "/api/v1/backups"): ("self", lambda w: Req("POST", "/api/v1/backups")),
    ("GET", "/api/v1/backups/archive"): ("self", lambda w: Req("GET", "/api/v1/backups/archive")),
    ("PUT", "/api/v1/export-settings"): (
        "self",
        lambda w: Req("PUT", "/api/v1/export-settings", json={"timestamps": True}),
    ),
    ("GET", "/api/v1/export-templates/{fmt}"): (
        "self",
        lambda w: Req("GET", "/api/v1/export-templates/html"),
    ),
    ("PUT", "/api/v1/export-templates/{fmt}"): (
        "self",
        lambda w: Req("PUT", "/api/v1/export-templates/connectwise", json={"source": "{{ m.title }}"}),
    ),
    ("DELETE", "/api/v1/export-templates/{fmt}"): (
        "self",
        lambda w: Req("DELETE", "/api/v1/export-templates/pdf", ok=(204, 404)),
    ),
    # attachments: B's session or B's stored file, reached with A's credentials; the limits
    # act on the caller's own tenant. (On the folder store presign answers 501 to B as well,
    # after the session check, so A's 404 is still the isolation verdict.)
    ("POST", "/api/v1/sessions/{session_id}/attachments"): (
        "object",
        lambda w: Req(
            "POST",
            f"/api/v1/sessions/{_b_session(w)['session_id']}/attachments",
            content=_png_bytes(),
            headers={"Content-Type": "image/png"},
            params={"name": "a.png", "node_id": "scope"},
        ),
    ),
    ("POST", "/api/v1/sessions/{session_id}/attachments/presign"): (
        "object",
        lambda w: Req(
            "POST",
            f"/api/v1/sessions/{_b_session(w)['session_id']}/attachments/presign",
            json={"node_id": "scope", "size": 10, "sha256": "0" * 64},
            ok=(201, 501),
        ),
    ),
    ("POST", "/api/v1/sessions/{session_id}/attachments/{attachment_id}/confirm"): (
        "object",
        lambda w: Req(
            "POST", "/api/v1/sessions/{}/attachments/{}/confirm".format(*_b_attachment(w)), ok=(200, 501)
        ),
    ),
    ("GET", "/api/v1/sessions/{session_id}/attachments/{attachment_id}"): (
        "object",
        lambda w: Req("GET", "/api/v1/sessions/{}/attachments/{}".format(*_b_attachment(w)), ok=(200, 307)),
    ),
    ("GET", "/api/v1/attachment-settings"): ("self", lambda w: Req("GET", "/api/v1/attachment-settings")),
    ("PUT", "/api/v1/attachment-settings"): (
        "self",
        lambda w: Req("PUT", "/api/v1/attachment-settings", json={"strip_image_metadata": True}),
    ),
    # trees
    ("GET", "/api/v1/trees"): (
        "self",
        lambda w: (_b_tree(w), Req("GET", "/api/v1/trees", params={"include_archived": "true"}))[1],
    ),
    ("GET", "/api/v1/trees/categories"): ("self", lambda w: Req("GET", "/api/v1/trees/categories")),
    ("POST", "/api/v1/trees"): (
        "self",
        lambda w: Req("POST", "/api/v1/trees", json={"type": "tree", "title": "A's"}),
    ),
    ("POST", "/api/v1/trees/validate"): (
        "self",
        lambda w: Req("POST", "/api/v1/trees/validate", json={"type": "tree"}),
    ),
    ("POST", "/api/v1/trees/import"): (
        "self",
        lambda w: Req("POST", "/api/v1/trees/import", json={"type": "tree", "title": "Imported"}),
    ),
    ("POST", "/api/v1/starter-library/load"): ("self", lambda w: Req("POST", "/api/v1/starter-library/load")),
    ("GET", "/api/v1/trees/{tree_id}"): ("object", lambda w: Req("GET", f"/api/v1/trees/{_b_tree(w)}")),
    ("PUT", "/api/v1/trees/{tree_id}"): (
        "object",
        lambda w: Req(
            "PUT",
            f"/api/v1/trees/{(t := _b_tree(w))}",
            json=w.http.get(f"/api/v1/trees/{t}", headers=w.b.headers).json(),
        ),
    ),
    ("DELETE", "/api/v1/trees/{tree_id}"): ("object", lambda w: Req("DELETE", f"/api/v1/trees/{_b_tree(w)}")),
    ("POST", "/api/v1/trees/{tree_id}/publish"): (
        "object",
        lambda w: Req("POST", f"/api/v1/trees/{_b_tree(w)}/publish"),
    ),
    ("GET", "/api/v1/trees/{tree_id}/versions"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{_b_tree(w, True)}/versions"),
    ),
    ("GET", "/api/v1/trees/{tree_id}/versions/{version}"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{_b_tree(w, True)}/versions/1"),
    ),
    ("GET", "/api/v1/trees/{tree_id}/export"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{_b_tree(w)}/export"),
    ),
    ("POST", "/api/v1/trees/{tree_id}/rollback"): (
        "object",
        lambda w: Req(
            "POST",
            f"/api/v1/trees/{(t := _b_tree(w, True))}/rollback",
            json={"version": 1, "_rev": w.http.get(f"/api/v1/trees/{t}", headers=w.b.headers).json()["_rev"]},
        ),
    ),
    ("GET", "/api/v1/trees/{tree_id}/suggestions"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{(_b_session(w), w._b_tree)[1]}/suggestions"),
    ),
    ("POST", "/api/v1/trees/{tree_id}/suggestions/dismiss"): (
        "object",
        lambda w: Req("POST", f"/api/v1/trees/{(s := _b_suggestion(w))[0]}/suggestions/dismiss", json=s[1]),
    ),
    ("POST", "/api/v1/trees/{tree_id}/suggestions/restore"): (
        "object",
        lambda w: Req("POST", f"/api/v1/trees/{(s := _b_suggestion(w))[0]}/suggestions/restore", json=s[1]),
    ),
    ("GET", "/api/v1/trees/{tree_id}/starter-update"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{_b_starter_offer(w)}/starter-update"),
    ),
    ("POST", "/api/v1/trees/{tree_id}/starter-update/apply"): (
        "object",
        lambda w: Req("POST", f"/api/v1/trees/{_b_starter_offer(w)}/starter-update/apply"),
    ),
    # freshness: B's flags live in B's own database (tests/freshness covers a flagged B tree)
    ("POST", "/api/v1/trees/{tree_id}/review-done"): (
        "object",
        lambda w: Req("POST", f"/api/v1/trees/{_b_tree(w, True)}/review-done"),
    ),
    ("GET", "/api/v1/trees/attention"): ("self", lambda w: Req("GET", "/api/v1/trees/attention")),
    # publish reviews: sidecars in B's own `trees` database
    ("GET", "/api/v1/trees/{tree_id}/reviews"): (
        "object",
        lambda w: Req("GET", f"/api/v1/trees/{_b_review(w)[0]}/reviews"),
    ),
    ("POST", "/api/v1/trees/{tree_id}/reviews"): (
        "object",
        lambda w: Req("POST", f"/api/v1/trees/{_b_tree(w)}/reviews", json={"note": "Check"}),
    ),
    ("GET", "/api/v1/trees/{tree_id}/reviews/{review_id}"): (
        "object",
        lambda w: Req("GET", "/api/v1/trees/{}/reviews/{}".format(*_b_review(w))),
    ),
    ("POST", "/api/v1/trees/{tree_id}/reviews/{review_id}/approve"): (
        "object",
        lambda w: Req("POST", "/api/v1/trees/{}/reviews/{}/approve".format(*_b_review(w)), json={}),
    ),
    ("POST", "/api/v1/trees/{tree_id}/reviews/{review_id}/reject"): (
        "object",
        lambda w: Req(
            "POST", "/api/v1/trees/{}/reviews/{}/reject".format(*_b_review(w)), json={"comment": "No"}
        ),
    ),
    ("POST", "/api/v1/trees/{tree_id}/reviews/{review_id}/comments"): (
        "object",
        lambda w: Req(
            "POST", "/api/v1/trees/{}/reviews/{}/comments".format(*_b_review(w)), json={"body": "Hm"}
        ),
    ),
    ("POST", "/api/v1/trees/{tree_id}/reviews/{review_id}/withdraw"): (
        "object",
        lambda w: Req("POST", "/api/v1/trees/{}/reviews/{}/withdraw".format(*_b_review(w))),
    ),
    ("GET", "/api/v1/reviews"): ("self", lambda w: (_b_review(w), Req("GET", "/api/v1/reviews"))[1]),
    ("GET", "/api/v1/tenant/publishing"): ("self", lambda w: Req("GET", "/api/v1/tenant/publishing")),
    ("PUT", "/api/v1/tenant/publishing"): (
        "self",
        lambda w: Req("PUT", "/api/v1/tenant/publishing", json={"require_approval": False}),
    ),
    ("GET", "/api/v1/tenant/freshness"): ("self", lambda w: Req("GET", "/api/v1/tenant/freshness")),
    ("PUT", "/api/v1/tenant/freshness"): (
        "self",
        lambda w: Req("PUT", "/api/v1/tenant/freshness", json={"review_interval_days": 90}),
    ),
    ("GET", "/api/v1/analytics/trees/{tree_id}"): (
        "object",
        lambda w: Req("GET", f"/api/v1/analytics/trees/{_b_engineer_figures(w)}"),
    ),
    ("GET", "/api/v1/analytics/overview"): (
        "self",
        lambda w: (_b_engineer_figures(w), Req("GET", "/api/v1/analytics/overview"))[1],
    ),
    # scripts: each tenant's own `scripts` database
    ("GET", "/api/v1/scripts"): (
        "self",
        lambda w: (_b_script(w, True), Req("GET", "/api/v1/scripts", params={"include_archived": "true"}))[1],
    ),
    ("POST", "/api/v1/scripts"): (
        "self",
        lambda w: Req("POST", "/api/v1/scripts", json={"name": "A's", "risk": "low", "body": "Get-Date"}),
    ),
    ("POST", "/api/v1/scripts/import"): (
        "self",
        lambda w: Req(
            "POST", "/api/v1/scripts/import", json={"name": "Imported", "risk": "low", "body": "Get-Date"}
        ),
    ),
    ("GET", "/api/v1/scripts/{script_id}"): (
        "object",
        lambda w: Req("GET", f"/api/v1/scripts/{_b_script(w)}"),
    ),
    ("PUT", "/api/v1/scripts/{script_id}"): (
        "object",
        lambda w: Req(
            "PUT",
            f"/api/v1/scripts/{(s := _b_script(w))}",
            json=w.http.get(f"/api/v1/scripts/{s}", headers=w.b.headers).json(),
        ),
    ),
    ("DELETE", "/api/v1/scripts/{script_id}"): (
        "object",
        lambda w: Req("DELETE", f"/api/v1/scripts/{_b_script(w)}"),
    ),
    ("POST", "/api/v1/scripts/{script_id}/publish"): (
        "object",
        lambda w: Req("POST", f"/api/v1/scripts/{_b_script(w)}/publish"),
    ),
    ("GET", "/api/v1/scripts/{script_id}/versions"): (
        "object",
        lambda w: Req("GET", f"/api/v1/scripts/{_b_script(w, True)}/versions"),
    ),
    ("GET", "/api/v1/scripts/{script_id}/versions/{version}"): (
        "object",
        lambda w: Req("GET", f"/api/v1/scripts/{_b_script(w, True)}/versions/1"),
    ),
    ("POST", "/api/v1/scripts/{script_id}/render"): (
        "object",
        lambda w: Req(
            "POST", f"/api/v1/scripts/{_b_script(w, True)}/render", json={"parameters": {"Target": "srv01"}}
        ),
    ),
    ("GET", "/api/v1/scripts/{script_id}/export"): (
        "object",
        lambda w: Req("GET", f"/api/v1/scripts/{_b_script(w)}/export"),
    ),
}

# Client documents of tenant B with an attachment (`a.txt`).
_WITH_HELLO = {
    "_attachments": {"a.txt": {"content_type": "text/plain", "data": base64.b64encode(b"hello").decode()}}
}
_WITH_HI = {"_attachments": {"a.txt": {"content_type": "text/plain", "data": "aGk="}}}

SYNC_CASES: dict[str, Factory] = {
    "GET /": lambda w: Req("GET", _sync(w, "")),
    "GET /_all_dbs": lambda w: Req("GET", _sync(w, "_all_dbs")),
    "GET /_uuids": lambda w: Req("GET", _sync(w, "_uuids")),
    "GET /_session": lambda w: Req("GET", _sync(w, "_session")),
    "GET /db": lambda w: Req("GET", _sync(w, "sessions")),
    "PUT /db": lambda w: Req("PUT", _sync(w, f"new{len(w.b_ids)}")),
    "DELETE /db": lambda w: Req("DELETE", _sync(w, _b_extra_db(w))),
    "POST /db": lambda w: Req("POST", _sync(w, "clients"), json={"name": "posted"}),
    "GET /db/_changes": lambda w: (_b_doc(w), Req("GET", _sync(w, "clients/_changes")))[1],
    "POST /db/_changes": lambda w: Req(
        "POST", _sync(w, "clients/_changes"), params={"filter": "_doc_ids"}, json={"doc_ids": [_b_doc(w)[0]]}
    ),
    "GET /db/_all_docs": lambda w: (_b_doc(w), Req("GET", _sync(w, "clients/_all_docs")))[1],
    "GET /scripts/_all_docs": lambda w: (_b_script(w, True), Req("GET", _sync(w, "scripts/_all_docs")))[1],
    "POST /db/_all_docs": lambda w: Req("POST", _sync(w, "clients/_all_docs"), json={"keys": [_b_doc(w)[0]]}),
    "POST /db/_revs_diff": lambda w: Req(
        "POST", _sync(w, "clients/_revs_diff"), json={(d := _b_doc(w))[0]: [d[1], "9-abc"]}
    ),
    "POST /db/_bulk_docs": lambda w: Req(
        "POST", _sync(w, "clients/_bulk_docs"), json={"docs": [{"name": "x"}]}
    ),
    "POST /db/_bulk_get": lambda w: Req(
        "POST", _sync(w, "clients/_bulk_get"), json={"docs": [{"id": _b_doc(w)[0]}]}
    ),
    "GET /db/doc": lambda w: Req("GET", _sync(w, f"clients/{_b_doc(w)[0]}")),
    "PUT /db/doc": lambda w: Req(
        "PUT",
        _sync(w, f"clients/{(d := _b_doc(w))[0]}"),
        json={"_rev": d[1], "type": "client", "name": "edit"},
    ),
    "DELETE /db/doc": lambda w: Req(
        "DELETE", _sync(w, f"clients/{(d := _b_doc(w))[0]}"), params={"rev": d[1]}
    ),
    "GET /db/doc/att": lambda w: Req("GET", _sync(w, f"clients/{_b_doc(w, body=_WITH_HELLO)[0]}/a.txt")),
    "PUT /db/doc/att": lambda w: Req(
        "PUT",
        _sync(w, f"clients/{(d := _b_doc(w))[0]}/b.txt"),
        params={"rev": d[1]},
        content=b"data",
        headers={"content-type": "text/plain"},
    ),
    "DELETE /db/doc/att": lambda w: Req(
        "DELETE", _sync(w, f"clients/{(d := _b_doc(w, body=_WITH_HI))[0]}/a.txt"), params={"rev": d[1]}
    ),
    "GET /db/_local/id": lambda w: (
        w.http.put(_sync(w, "clients/_local/ckpt"), headers=w.b.headers, json={"x": 1}),
        Req("GET", _sync(w, "clients/_local/ckpt")),
    )[1],
    "PUT /db/_local/id": lambda w: Req("PUT", _sync(w, f"clients/_local/c{len(w.b_ids)}"), json={"x": 1}),
    "DELETE /db/_local/id": lambda w: Req(
        "DELETE",
        _sync(w, "clients/_local/gone"),
        params={
            "rev": w.http.put(_sync(w, "clients/_local/gone"), headers=w.b.headers, json={"x": 1}).json()[
                "rev"
            ]
        },
    ),
    "GET /db/_revs_limit": lambda w: Req("GET", _sync(w, "clients/_revs_limit")),
    "PUT /db/_revs_limit": lambda w: Req(
        "PUT", _sync(w, "clients/_revs_limit"), content=b"500", headers={"content-type": "application/json"}
    ),
    "GET /db/_security": lambda w: Req("GET", _sync(w, "clients/_security")),
    "POST /db/_ensure_full_commit": lambda w: Req("POST", _sync(w, "clients/_ensure_full_commit"), json={}),
    "GET /db/_design/ddoc/_view/view": lambda w: (
        w.http.put(
            _sync(w, "clients/_design/iso"),
            headers=w.b.headers,
            json={"views": {"by_name": {"map": "function (doc) { emit(doc.name, null); }"}}},
        ),
        Req("GET", _sync(w, "clients/_design/iso/_view/by_name")),
    )[1],
    "POST /db/_view_cleanup": lambda w: Req("POST", _sync(w, "clients/_view_cleanup"), json={}),
}


@pytest.fixture(scope="module")
def world(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        a, b = Tenant(http, name="Tenant A"), Tenant(http, name="Tenant B")
        w = World(http, a, b)
        w.b_ids |= {b.id, b.me["user"]["id"]}
        yield w


def _route_keys(routes) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, descending into included routers."""
    keys = set()
    for route in routes:
        nested = getattr(route, "original_router", None)  # FastAPI wraps included routers
        if nested is not None:
            keys |= _route_keys(nested.routes)
            continue
        for method in getattr(route, "methods", None) or ():
            if method not in ("HEAD", "OPTIONS"):
                keys.add((method, route.path))
    return keys


def test_every_route_has_an_isolation_case(tmp_path, monkeypatch):
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    routes = _route_keys(app.routes)
    sync_routes = {k for k in routes if k[1].startswith("/sync/")}
    docs_routes = {
        k
        for k in routes
        if k[1] in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/docs/assets/{name}", "/redoc")
    }
    missing = sorted(routes - sync_routes - docs_routes - set(API_CASES))
    assert not missing, f"routes without a tenant-isolation case: {missing}"
    stale = sorted(set(API_CASES) - routes)
    assert not stale, f"isolation cases for routes that no longer exist: {stale}"
    # /sync/ is served by the sync door alone (SYNC_CASES below), never by a framework route.
    from sync.http import SYNC_METHODS

    assert not sync_routes and app.sync_door is not None
    assert set(SYNC_METHODS) >= {"GET", "PUT", "POST", "DELETE"}


OBJECT_CASES = [k for k, (kind, _) in API_CASES.items() if kind == "object"]
SELF_CASES = [k for k, (kind, _) in API_CASES.items() if kind == "self"]


@pytest.mark.parametrize("key", OBJECT_CASES, ids=[f"{m} {p}" for m, p in OBJECT_CASES])
def test_api_object_routes_refuse_another_tenant(world, key):
    req = API_CASES[key][1](world)
    r = world.send(world.a, req)
    assert r.status_code in (403, 404), f"{key}: tenant A got {r.status_code}: {r.text}"
    assert set(r.json()) >= {"error", "reason"}
    r = world.send(world.b, req)
    assert r.status_code in req.ok, f"{key}: tenant B itself got {r.status_code}: {r.text}"


@pytest.mark.parametrize("key", SELF_CASES, ids=[f"{m} {p}" for m, p in SELF_CASES])
def test_api_self_routes_never_show_another_tenants_ids(world, key):
    _b_user(world), _b_key(world), _b_doc(world)  # make sure B has objects to leak
    req = API_CASES[key][1](world)
    r = world.send(world.a, req)
    assert r.status_code in req.ok, f"{key}: {r.status_code} {r.text}"
    text = r.text
    leaked = [i for i in world.b_ids if i in text]
    assert not leaked, f"{key} showed tenant B's ids {leaked} to tenant A"
    assert world.send(world.b, API_CASES[key][1](world)).status_code in req.ok


@pytest.mark.parametrize("name", list(SYNC_CASES))
def test_sync_endpoints_refuse_another_tenant(world, name):
    req = SYNC_CASES[name](world)
    r = world.send(world.a, req)
    assert r.status_code in (403, 404), f"{name}: tenant A got {r.status_code}: {r.text}"
    assert set(r.json()) >= {"error", "reason"}
    r = world.send(world.b, req)
    assert r.status_code in req.ok, f"{name}: tenant B itself got {r.status_code}: {r.text}"


def test_listings_a_can_call_contain_none_of_bs_ids(world):
    _b_user(world), _b_key(world), _b_doc(world), _b_doc(world, "sessions", {"type": "x"})
    a = world.a
    texts = [
        world.send(a, Req("GET", u)).text
        for u in (
            "/api/v1/users",
            "/api/v1/api-keys",
            "/api/v1/me",
            "/api/v1/tenant",
            f"/sync/{a.id}/_all_dbs",
            f"/sync/{a.id}/clients/_all_docs?include_docs=true",
            f"/sync/{a.id}/sessions/_changes?include_docs=true",
            f"/sync/{a.id}/clients/_changes",
        )
    ]
    for text in texts:
        assert not [i for i in world.b_ids if i in text], text
    # B's documents cannot be reached through A's own sync root either.
    docid = next(i for i in world.b_ids if i.startswith("client:"))
    assert world.send(a, Req("GET", f"/sync/{a.id}/clients/{docid}")).status_code == 404
    assert json.loads(texts[5])["rows"] == []


def test_analytics_never_show_another_tenants_engineers(world):
    """B's engineers' figures reach neither A's admin overview nor its CSV, nor A's engineers."""
    _b_engineer_figures(world)
    a_engineer = world.a.add_user("engineer")
    for who in (world.a, a_engineer):
        for params in ({}, {"format": "csv"}):
            r = world.send(who, Req("GET", "/api/v1/analytics/overview", params=params))
            assert r.status_code == 200, r.text
            assert not [i for i in world.b_ids if i in r.text], r.text
    b_view = world.send(world.b, Req("GET", "/api/v1/analytics/overview")).json()
    assert len(b_view["engineers"]) >= 2 and b_view["trees"][0]["completed"] >= 1
