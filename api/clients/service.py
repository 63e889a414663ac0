"""Client contexts: `client:{slug}` documents in the tenant's `clients` database.

A client context holds what engineers look up again and again for one customer (domain,
domain controllers, VDA names...). Trees read it as `{{client.name}}` and `{{client.X}}`
(`values.X`); an input node with `save_to_client: "X"` writes what was entered back into
`values.X` (`POST /api/v1/sessions/{id}/save-to-client`). Every role reads; everyone but
viewers writes (DOCUMENTS.md).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import orjson

from sync.access import Principal
from sync.errors import BadRequest, Conflict, Forbidden, NotFound

from ..core.context import AppContext
from ..core.docs import by_prefix, check_write_limits, retry_on_conflict, save
from ..sessions import events
from . import repository as repo

_MAX_VALUES_BYTES = 64_000
_FIELDS = ("name", "values", "notes")


def _require_writer(who: Principal) -> None:
    if who.role == "viewer":
        raise Forbidden(
            "Viewers read client contexts but do not change them; ask an admin for the engineer role."
        )


def _slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:56].strip("-") or "client"


def _check_body(body: Any, *, partial: bool = False) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The body must be a client context: {name, values?, notes?}.")
    unknown = sorted(
        k for k in body if k not in _FIELDS and k not in ("_id", "_rev", "type", "schema_version")
    )
    if unknown:
        raise BadRequest(
            f"A client context has no field(s) {', '.join(unknown)}; its fields are name, values, notes."
        )
    out: dict[str, Any] = {}
    name = body.get("name")
    if name is None and not partial:
        raise BadRequest("`name` is required: the client's name as engineers know it.")
    if name is not None:
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise BadRequest("`name` must be a non-empty string of at most 200 characters.")
        out["name"] = name.strip()
    values = body.get("values", None if partial else {})
    if values is not None:
        if not isinstance(values, dict) or not all(isinstance(k, str) and k for k in values):
            raise BadRequest('`values` must be an object of named values, e.g. {"domain": "contoso.local"}.')
        if len(orjson.dumps(values)) > _MAX_VALUES_BYTES:
            raise BadRequest(
                f"`values` is larger than {_MAX_VALUES_BYTES} bytes; keep long text in notes or attachments."
            )
        out["values"] = values
    notes = body.get("notes", None if partial else "")
    if notes is not None:
        if not isinstance(notes, str) or len(notes) > 20_000:
            raise BadRequest("`notes` must be a string of at most 20000 characters.")
        out["notes"] = notes
    # The same schema the sync endpoints apply to client contexts written by devices.
    problem = events.client_problem({"type": "client", **out}) if not partial else None
    if problem:
        raise BadRequest(problem)
    return out


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": doc["_id"],
        "_rev": doc.get("_rev"),
        "id": doc["_id"],
        "type": "client",
        "schema_version": doc.get("schema_version", 1),
        "name": doc.get("name"),
        "values": doc.get("values") if isinstance(doc.get("values"), dict) else {},
        "notes": doc.get("notes") if isinstance(doc.get("notes"), str) else "",
    }


def list_clients(ctx: AppContext, who: Principal, *, limit: int, after: str | None) -> list[dict[str, Any]]:
    if after is not None and not isinstance(after, str):
        raise BadRequest("The cursor is not valid: pass back next_cursor exactly as a list returned it.")
    db = repo.clients_db(ctx, who.tenant_id)
    docs = by_prefix(db, "client:", limit=limit, startkey=after)
    return [public(d) for d in docs]


def get_client(ctx: AppContext, who: Principal, client_id: str) -> dict[str, Any]:
    client_id = repo.normalize_client_id(client_id)
    doc = repo.get_client_or_none(repo.clients_db(ctx, who.tenant_id), client_id)
    if doc is None:
        raise NotFound(f"No client {client_id} in this tenant.")
    return public(doc)


def create_client(ctx: AppContext, who: Principal, body: Any) -> dict[str, Any]:
    _require_writer(who)
    fields = _check_body(body)
    db = repo.clients_db(ctx, who.tenant_id)
    explicit = body.get("_id")
    if explicit is not None:
        if not isinstance(explicit, str):
            raise BadRequest("`_id` must be a string such as client:contoso.")
        try:
            candidates = [repo.normalize_client_id(explicit)]
        except NotFound:
            raise BadRequest(
                "`_id` must look like client:contoso (lowercase letters, digits, - and _)."
            ) from None
    else:
        slug = _slugify(fields["name"])
        candidates = [f"client:{slug}"] + [f"client:{slug}-{n}" for n in range(2, 50)]
    for client_id in candidates:
        doc = {"_id": client_id, "type": "client", "schema_version": 1, **fields}
        try:
            check_write_limits(ctx, db, doc)
            return public(save(db, doc))
        except Conflict:
            if explicit is not None:
                raise Conflict(
                    f"A client {client_id} already exists; choose another id or edit that client."
                ) from None
    raise Conflict("Could not find a free id for this name; give the client an explicit _id.")


def update_client(ctx: AppContext, who: Principal, client_id: str, body: Any) -> dict[str, Any]:
    _require_writer(who)
    client_id = repo.normalize_client_id(client_id)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a client context: {_rev, name, values?, notes?}.")
    rev = body.get("_rev")
    if not isinstance(rev, str) or not rev:
        raise BadRequest("Send the client's `_rev` (from GET) so a newer edit is never overwritten.")
    if body.get("_id", client_id) != client_id:
        raise BadRequest(f"The body's _id {body.get('_id')!r} does not match the URL's {client_id}.")
    fields = _check_body(body)
    db = repo.clients_db(ctx, who.tenant_id)
    current = repo.get_client_or_none(db, client_id)
    if current is None:
        raise NotFound(f"No client {client_id} in this tenant; create it with POST /api/v1/clients.")
    doc = {
        **{k: v for k, v in current.items() if not k.startswith("_")},
        **fields,
        "_id": client_id,
        "_rev": rev,
        "type": "client",
        "schema_version": 1,
    }
    try:
        check_write_limits(ctx, db, doc)
        return public(save(db, doc))
    except Conflict:
        raise Conflict(
            f"{client_id} was changed since you loaded it (your _rev is stale). "
            "Load it again, re-apply your change, and save."
        ) from None


def set_value(ctx: AppContext, who: Principal, client_id: str, key: str, value: Any) -> dict[str, Any]:
    """Set `values[key]` of a client, re-reading and retrying when someone saves at the same moment."""
    _require_writer(who)
    db = repo.clients_db(ctx, who.tenant_id)

    def attempt() -> dict[str, Any]:
        doc = repo.get_client_or_none(db, client_id)
        if doc is None:
            raise NotFound(
                f"The session's client {client_id} does not exist (any more); pick another client."
            )
        values = dict(doc.get("values") or {}) if isinstance(doc.get("values"), dict) else {}
        if values.get(key) == value:
            return public(doc)
        values[key] = value
        doc["values"] = values
        check_write_limits(ctx, db, doc)
        return public(save(db, doc))

    return retry_on_conflict(attempt, busy=f"{client_id} is being changed by others right now; try again.")
