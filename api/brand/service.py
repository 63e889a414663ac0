"""A tenant's brand: name, colours, custom domain (in the `tenant:` document's `settings`,
under `brand`) and logo (its own `brandlogo:` document in the system database).

The logo is PNG or JPEG only. SVG would be sharper, but an SVG is a program (scripts, external
references, entity expansion) that the app, the sign-in page and WeasyPrint would all have to
render safely; raster logos need no sanitiser and are checked by their bytes and decoded once.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from typing import Any

from sync.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, UnsupportedMediaType
from sync.store import Database

from ..core import claims, dnsproof
from ..core.docs import by_prefix, get_or_none, retry_on_conflict, save
from ..core.timeutil import iso
from ..settings import Settings
from ..tenants import repository as tenants
from . import contrast

LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_SIDE = 1024  # px; a header shows it at 32 px, an icon at 512
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}

_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def logo_doc_id(tenant_id: str) -> str:
    return f"brandlogo:{tenant_id}"


def domain_doc_id(domain: str) -> str:
    return f"branddomain:{domain}"


def get_brand(system: Database, tenant_id: str) -> dict[str, Any]:
    """The brand as the API shows it: the tenant's name when none was set, no colours
    (the app's own) when none were set, and the logo as a `data:` URL, so one answer is
    all a device needs to show the brand offline."""
    tenant = tenants.get_tenant(system, tenant_id)
    stored = (tenant.get("settings") or {}).get("brand") or {}
    primary = stored.get("primary_color")
    logo = get_or_none(system, logo_doc_id(tenant_id))
    return {
        "name": stored.get("name") or tenant["name"],
        "primary_color": primary,
        "on_primary": contrast.text_on(primary).text if primary else None,
        "accent_color": stored.get("accent_color"),
        "custom_domain": stored.get("custom_domain"),
        "custom_domain_verified": domain_status(system, tenant_id, stored.get("custom_domain")) == "verified",
        "custom_domain_status": domain_status(system, tenant_id, stored.get("custom_domain")),
        "logo": (
            {
                "content_type": logo["content_type"],
                "sha256": logo["sha256"],
                "data_url": f"data:{logo['content_type']};base64,{logo['data']}",
            }
            if logo
            else None
        ),
    }


def check_color(field: str, value: str | None) -> str | None:
    """`value` as `#rrggbb`, or a 400 saying what is wrong: not hex, or text on it would
    not reach 4.5:1 (with the ratio and a nearby colour that passes)."""
    if value is None:
        return None
    color = contrast.parse_hex(value)
    if color is None:
        raise BadRequest(f"{field} {value!r} is not a hex colour; give it as #rrggbb, e.g. #1d4ed8.")
    choice = contrast.text_on(color)
    if not choice.passes:
        better = contrast.suggest(color)
        raise BadRequest(
            f"{field} {color} is too light or too mid-toned for readable text: the best text colour "
            f"on it ({'white' if choice.text == contrast.WHITE else 'dark'}) reaches only "
            f"{choice.ratio:.2f}:1, and WCAG asks for {contrast.MIN_RATIO}:1. Try {better}, the nearest "
            "colour that passes.",
            details={"field": field, "ratio": round(choice.ratio, 2), "suggestion": better},
        )
    return color


def check_domain(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    domain = value.strip().lower().rstrip(".")
    if not _DOMAIN.match(domain):
        raise BadRequest(
            f"custom_domain {value!r} is not a host name; give the bare name, e.g. help.example-msp.com "
            "(no scheme, port or path)."
        )
    return domain


def put_brand(system: Database, tenant_id: str, brand: dict[str, Any]) -> dict[str, Any]:
    """Replace the brand's settings (validated by the caller); answers the brand as it was.

    Naming a custom domain claims nothing: a domain is held only once proven (by its DNS
    record, `prove_domain`, or by the operator, `verify_domain`), the first proof winning, as
    for SSO's e-mail domains. So no workspace can squat another's domain by naming it first;
    only a domain another workspace has proven is refused (409). Dropping or changing the
    domain releases the old one once the new settings are saved."""
    before = (tenants.get_tenant(system, tenant_id).get("settings") or {}).get("brand") or {}
    domain: str | None = brand.get("custom_domain")
    old: str | None = before.get("custom_domain")
    if domain and domain != old and _held_by_other(system, tenant_id, domain):
        raise Conflict(claims.taken_message(f"The domain {domain}"))
    tenants.update_settings(system, tenant_id, {"brand": brand})
    if old and old != domain:
        claims.release(system, domain_doc_id(old), tenant_id)
    return before


def _proven_claim(system: Database, domain: str) -> dict[str, Any] | None:
    """The claim on `domain` if it was proven; a claim made before proofs existed (unverified)
    holds nothing."""
    claim = get_or_none(system, domain_doc_id(domain))
    return claim if claim and claim.get("verified") else None


def _held_by_other(system: Database, tenant_id: str, domain: str) -> bool:
    claim = _proven_claim(system, domain)
    return claim is not None and claim["tenant_id"] != tenant_id


def domain_status(system: Database, tenant_id: str, domain: str | None) -> str | None:
    """`verified` (this workspace proved it), `taken` (another one did), `pending`, or None
    without a custom domain."""
    if not domain:
        return None
    claim = _proven_claim(system, domain)
    if claim is None:
        return "pending"
    return "verified" if claim["tenant_id"] == tenant_id else "taken"


def _hold(system: Database, tenant_id: str, domain: str, proof: dict[str, Any]) -> None:
    """Record `tenant_id` as the proven holder of `domain` (replacing an unproven claim, or
    adding the proof to its own); Conflict when another workspace proved it first."""

    def attempt() -> bool:
        held = get_or_none(system, domain_doc_id(domain))
        if held is not None and held.get("verified") and held["tenant_id"] != tenant_id:
            return False  # not a write conflict to retry: the domain is someone else's
        doc = {"_id": domain_doc_id(domain), "type": "brand_domain", "tenant_id": tenant_id, "verified": True}
        if held is not None:
            doc["_rev"] = held["_rev"]
        save(system, {**doc, "verified_at": iso(), **proof})
        return True

    if not retry_on_conflict(
        attempt, busy=f"The domain {domain} was changed while it was checked; verify again."
    ):
        raise Conflict(claims.taken_message(f"The domain {domain}"))


def tenant_for_domain(system: Database, host: str) -> str | None:
    """The tenant whose verified custom domain `host` (a Host header, port allowed) is, if any."""
    domain = host.split(":", 1)[0].strip().lower().rstrip(".")
    if not domain or not _DOMAIN.match(domain):
        return None
    claim = get_or_none(system, domain_doc_id(domain))
    return claim.get("tenant_id") if claim and claim.get("verified") else None


BRAND_PROOF = "branchline brand custom domain v1"


def domain_record(secret: str, tenant_id: str, domain: str) -> dict[str, str]:
    """The TXT record that proves the tenant's custom domain (api/core/dnsproof.py)."""
    return dnsproof.record(secret, BRAND_PROOF, tenant_id, domain)


def prove_domain(system: Database, settings: Settings, secret: str, tenant_id: str, user_id: str) -> bool:
    """Verify the tenant's custom domain by its DNS TXT record, as an alternative to the
    operator's `branchline domain verify`: True when this call verified it, False when it was
    verified already. Nothing changes when the proof fails (422 or 503, see `dnsproof`)."""
    stored = (tenants.get_tenant(system, tenant_id).get("settings") or {}).get("brand") or {}
    domain = stored.get("custom_domain")
    if not domain:
        raise NotFound("This workspace has no custom domain; set one in the brand settings first.")
    status = domain_status(system, tenant_id, domain)
    if status == "verified":
        return False
    if status == "taken":
        raise Conflict(claims.taken_message(f"The domain {domain}"))
    wanted = domain_record(secret, tenant_id, domain)
    found = dnsproof.lookup_txt(settings, wanted["name"])
    dnsproof.check(found, wanted["name"], wanted["value"], domain)
    _hold(system, tenant_id, domain, {"verified_by": user_id, "verified_via": "dns"})
    # The brand may have changed while DNS answered. Checked after holding, not before: a
    # change saved in between either sees the claim (and releases it) or is seen here.
    now = (tenants.get_tenant(system, tenant_id).get("settings") or {}).get("brand") or {}
    if now.get("custom_domain") != domain:
        claims.release(system, domain_doc_id(domain), tenant_id)
        raise Conflict(f"The custom domain was changed while {domain} was checked; verify again.")
    return True


def tenants_naming(system: Database, domain: str) -> list[str]:
    """The workspaces whose brand names `domain` as their custom domain."""
    return [
        t["tenant_id"]
        for t in by_prefix(system, "tenant:")
        if ((t.get("settings") or {}).get("brand") or {}).get("custom_domain") == domain
    ]


def verify_domain(system: Database, domain: str, tenant_id: str | None = None) -> str:
    """Mark `domain` proven for the workspace naming it (the operator's command, having checked
    the domain some other way); answers its tenant id. Several workspaces may name a domain
    before one proves it: then the operator says which (`tenant_id`)."""
    domain = check_domain(domain) or ""
    naming = tenants_naming(system, domain)
    if tenant_id is None:
        if not naming:
            raise NotFound(f"No workspace names {domain}; its admin sets it in the brand settings first.")
        if len(naming) > 1:
            raise BadRequest(
                f"Several workspaces name {domain}: {', '.join(naming)}. Say which one with --tenant."
            )
        tenant_id = naming[0]
    elif tenant_id not in naming:
        raise NotFound(f"Workspace {tenant_id} does not name {domain} as its custom domain.")
    _hold(system, tenant_id, domain, {"verified_via": "operator"})
    return tenant_id


def public_brand(system: Database, tenant_id: str) -> dict[str, Any]:
    """What anyone reaching a tenant's custom domain may see before signing in."""
    brand = get_brand(system, tenant_id)
    return {k: brand[k] for k in ("name", "primary_color", "on_primary", "logo")}


def manifest(system: Database, tenant_id: str, default: dict[str, Any]) -> dict[str, Any]:
    """The web app manifest for a tenant's custom domain: the default one with the tenant's
    name, colour and icons made from its logo."""
    brand = get_brand(system, tenant_id)
    out = {**default, "name": brand["name"], "short_name": brand["name"][:12].strip()}
    if brand["primary_color"]:
        out["theme_color"] = brand["primary_color"]
    if brand["logo"]:
        out["icons"] = [
            {
                "src": f"/api/v1/brand/icon-{size}.png",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in ICON_SIZES
        ]
    return out


ICON_SIZES = (192, 512)


def icon(system: Database, tenant_id: str, size: int) -> bytes | None:
    """The logo centred on a square of the brand colour (white without one), `size` px: the
    home-screen icon the manifest names. None without a logo."""
    found = logo_bytes(system, tenant_id)
    if found is None or size not in ICON_SIZES:
        return None
    from PIL import Image  # noqa: PLC0415

    brand = get_brand(system, tenant_id)
    background = brand["primary_color"] or "#ffffff"
    square = Image.new("RGBA", (size, size), background)
    logo = Image.open(io.BytesIO(found[0])).convert("RGBA")
    logo.thumbnail((int(size * 0.8), int(size * 0.8)))
    square.alpha_composite(logo, ((size - logo.width) // 2, (size - logo.height) // 2))
    out = io.BytesIO()
    square.save(out, "PNG")
    return out.getvalue()


def check_logo(data: bytes) -> tuple[str, int, int]:
    """The logo's type and size in pixels, or why it is refused: by its bytes (not its name
    or declared type), then by decoding it."""
    if len(data) > LOGO_MAX_BYTES:
        raise PayloadTooLarge(
            f"The logo is {len(data) // 1024} KB; the limit is {LOGO_MAX_BYTES // 1024} KB. "
            f"Export it smaller (at most {LOGO_MAX_SIDE} px a side is plenty)."
        )
    mime = next((m for magic, m in LOGO_TYPES.items() if data.startswith(magic)), None)
    if mime is None:
        raise UnsupportedMediaType(
            "The logo must be a PNG or JPEG image (checked by its content). SVG is not accepted: "
            "export the logo as PNG."
        )
    from PIL import Image  # noqa: PLC0415  (needed only here)

    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
            raise BadRequest(
                f"The logo is {width}x{height} px; at most {LOGO_MAX_SIDE} px a side, please. Scale it down."
            )
        image.verify()
    except BadRequest:
        raise
    except Exception:  # noqa: BLE001 - any decoder failure means a broken file
        raise BadRequest(
            "The logo could not be read as an image; it looks damaged. Export it again."
        ) from None
    return mime, width, height


def put_logo(system: Database, tenant_id: str, data: bytes, user_id: str) -> dict[str, Any]:
    mime, width, height = check_logo(data)
    existing = get_or_none(system, logo_doc_id(tenant_id))
    doc = {
        "_id": logo_doc_id(tenant_id),
        "type": "brand_logo",
        "schema_version": 1,
        "tenant_id": tenant_id,
        "content_type": mime,
        "width": width,
        "height": height,
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": base64.b64encode(data).decode(),
        "updated_at": iso(),
        "updated_by": user_id,
    }
    if existing:
        doc["_rev"] = existing["_rev"]
    return save(system, doc)


def logo_bytes(system: Database, tenant_id: str) -> tuple[bytes, str] | None:
    doc = get_or_none(system, logo_doc_id(tenant_id))
    return (base64.b64decode(doc["data"]), doc["content_type"]) if doc else None
