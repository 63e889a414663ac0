"""SAML 2.0 service provider (pysaml2 and the xmlsec1 binary): SP-initiated sign-in with the
HTTP-Redirect binding, the answer taken at an assertion consumer service over HTTP-POST.

pysaml2 checks the assertion's signature against the IdP's metadata, the audience (our
entity id), the recipient and destination (our ACS), InResponseTo (the request this
browser started) and NotBefore/NotOnOrAfter within MAX_SKEW_SECONDS. Branchline adds: the
assertion must be signed (a signed response around an unsigned assertion is refused), and an
assertion id is accepted once (remembered until it expires)."""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass
from typing import Any

from .oidc import MAX_SKEW_SECONDS

NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
EMAIL_ATTRIBUTES = (
    "email",
    "mail",
    "emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)


class SamlRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SpEndpoints:
    entity_id: str
    acs_url: str


def endpoints(base: str, slug: str) -> SpEndpoints:
    root = f"{base}/api/v1/auth/sso/{slug}/saml"
    return SpEndpoints(entity_id=f"{root}/metadata", acs_url=f"{root}/acs")


def xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if not found:
        raise SamlRefused(
            "xmlsec_missing",
            "SAML needs the xmlsec1 program on the server (Debian: apt-get install xmlsec1).",
        )
    return found


def client(sp: SpEndpoints, idp_metadata: str) -> Any:
    """A pysaml2 client for this team; built per request from the stored metadata."""
    from saml2 import BINDING_HTTP_POST  # noqa: PLC0415  (pysaml2 loads only when SAML is used)
    from saml2.client import Saml2Client  # noqa: PLC0415
    from saml2.config import SPConfig  # noqa: PLC0415

    config = SPConfig()
    try:
        config.load(
            {
                "entityid": sp.entity_id,
                "xmlsec_binary": xmlsec_binary(),
                "metadata": {"inline": [idp_metadata]},
                "accepted_time_diff": MAX_SKEW_SECONDS,
                "allow_unknown_attributes": True,
                "service": {
                    "sp": {
                        "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
                        "want_assertions_signed": True,
                        "want_response_signed": False,
                        "allow_unsolicited": False,
                        "authn_requests_signed": False,
                        "name_id_format": NAMEID_EMAIL,
                    }
                },
            }
        )
    except SamlRefused:
        raise
    except Exception as exc:  # noqa: BLE001  (pysaml2 raises many unrelated types for bad metadata)
        raise SamlRefused("bad_metadata", f"The IdP metadata cannot be read: {exc}.") from None
    return Saml2Client(config=config)


def idp_entity_id(idp_metadata: str) -> str:
    """The IdP's entity id from its metadata (exactly one IdP in it); SamlRefused otherwise."""
    import defusedxml.ElementTree as ET  # noqa: PLC0415

    try:
        root = ET.fromstring(idp_metadata)
    except ET.ParseError as exc:
        raise SamlRefused("bad_metadata", f"The IdP metadata is not XML: {exc}.") from None
    md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
    entities = [root] if root.tag == f"{md}EntityDescriptor" else root.findall(f"{md}EntityDescriptor")
    idps = [e for e in entities if e.find(f"{md}IDPSSODescriptor") is not None]
    if len(idps) != 1 or not idps[0].get("entityID"):
        raise SamlRefused("bad_metadata", "The IdP metadata must describe exactly one identity provider.")
    return str(idps[0].get("entityID"))


def metadata_xml(sp: SpEndpoints, idp_metadata: str) -> str:
    from saml2.metadata import entity_descriptor  # noqa: PLC0415

    return str(entity_descriptor(client(sp, idp_metadata).config))


def start(sp: SpEndpoints, idp_metadata: str, relay_state: str) -> tuple[str, str]:
    """The IdP's address with the AuthnRequest (HTTP-Redirect), and the request's id."""
    saml_client = client(sp, idp_metadata)
    request_id, info = saml_client.prepare_for_authenticate(
        entityid=idp_entity_id(idp_metadata), relay_state=relay_state
    )
    location = dict(info["headers"])["Location"]
    return location, request_id


@dataclass(frozen=True)
class Asserted:
    email: str
    name: str | None
    assertion_id: str
    not_on_or_after: float


def _first(values: Any) -> str | None:
    if isinstance(values, list) and values:
        return str(values[0])
    return str(values) if isinstance(values, str) else None


def accept(sp: SpEndpoints, idp_metadata: str, saml_response: str, request_id: str, now: float) -> Asserted:
    """The checked assertion of a POSTed SAMLResponse answering `request_id`."""
    from saml2 import BINDING_HTTP_POST  # noqa: PLC0415

    facts = response_facts(saml_response)
    if facts.destination and facts.destination != sp.acs_url:
        raise SamlRefused(
            "wrong_recipient", f"The SAML answer is addressed to {facts.destination}, not here."
        )
    if any(r != sp.acs_url for r in facts.recipients):
        raise SamlRefused("wrong_recipient", "The SAML assertion is meant for another recipient.")
    if not facts.assertion_signed:
        raise SamlRefused(
            "unsigned_assertion", "The SAML assertion is not signed; the IdP must sign assertions."
        )
    if facts.audiences and sp.entity_id not in facts.audiences:
        raise SamlRefused("wrong_audience", "The SAML assertion was issued to another service provider.")
    saml_client = client(sp, idp_metadata)
    try:
        answer = saml_client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={request_id: "/"}
        )
    except Exception as exc:  # noqa: BLE001  (pysaml2's refusals share no base class)
        if facts.not_on_or_after is not None and facts.not_on_or_after < now - MAX_SKEW_SECONDS:
            raise SamlRefused("expired", "The SAML assertion has expired. Sign in again.") from None
        if facts.not_before is not None and facts.not_before > now + MAX_SKEW_SECONDS:
            raise SamlRefused(
                "not_yet_valid", "The SAML assertion is not valid yet; check the server clocks."
            ) from None
        raise SamlRefused(_reason(exc), f"The SAML answer is refused: {_describe(exc)}.") from None
    if answer is None or answer.assertion is None:
        raise SamlRefused("invalid_response", "The SAML answer holds no assertion for this service.")
    if answer.assertion.signature is None:
        raise SamlRefused(
            "unsigned_assertion", "The SAML assertion is not signed; the IdP must sign assertions."
        )
    identity = {k.lower(): v for k, v in (answer.get_identity() or {}).items()}
    name_id = answer.name_id
    email = name_id.text if name_id is not None and name_id.format == NAMEID_EMAIL else None
    for attr in EMAIL_ATTRIBUTES:
        email = email or _first(identity.get(attr))
    if not email or "@" not in email:
        raise SamlRefused(
            "no_email", "The SAML assertion carries no e-mail address (NameID or an email attribute)."
        )
    return Asserted(
        email=email.strip().lower(),
        name=_first(identity.get("displayname")) or _first(identity.get("cn")),
        assertion_id=answer.assertion.id,
        not_on_or_after=facts.not_on_or_after or now + 600,
    )


@dataclass(frozen=True)
class Facts:
    destination: str | None
    recipients: list[str]
    audiences: list[str]
    assertion_signed: bool
    not_before: float | None
    not_on_or_after: float | None


_P = "{urn:oasis:names:tc:SAML:2.0:protocol}"
_A = "{urn:oasis:names:tc:SAML:2.0:assertion}"
_DS = "{http://www.w3.org/2000/09/xmldsig#}"


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    from datetime import datetime  # noqa: PLC0415

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def response_facts(saml_response: str) -> Facts:
    """What the response claims, read before any check, to name the reason of a refusal
    precisely (pysaml2 reports several of them as one "Condition not OK"). Nothing read here
    is trusted: the signature is checked by pysaml2 afterwards."""
    import defusedxml.ElementTree as ET  # noqa: PLC0415

    try:
        root = ET.fromstring(base64.b64decode(saml_response, validate=False))
    except (ValueError, ET.ParseError):
        raise SamlRefused("invalid_response", "The SAML answer is not a SAML response.") from None
    assertions = root.findall(f"{_A}Assertion")
    if root.tag != f"{_P}Response" or len(assertions) != 1:
        raise SamlRefused(
            "invalid_response", "The SAML answer must hold exactly one (unencrypted) assertion."
        )
    assertion = assertions[0]
    conditions = assertion.find(f"{_A}Conditions")
    return Facts(
        destination=root.get("Destination"),
        recipients=[
            d.get("Recipient", "")
            for d in assertion.iter(f"{_A}SubjectConfirmationData")
            if d.get("Recipient") is not None
        ],
        audiences=[a.text or "" for a in assertion.iter(f"{_A}Audience")],
        assertion_signed=assertion.find(f"{_DS}Signature") is not None,
        not_before=_epoch(conditions.get("NotBefore")) if conditions is not None else None,
        not_on_or_after=_epoch(conditions.get("NotOnOrAfter")) if conditions is not None else None,
    )


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    return {
        "SignatureError": "bad_signature",
        "IncorrectlySigned": "bad_signature",
        "SigverError": "bad_signature",
        "UnsolicitedResponse": "bad_state",
        "VerificationError": "invalid_response",
        "StatusError": "idp_error",
    }.get(name, "invalid_response")


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
