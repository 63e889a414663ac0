"""The SSO settings as the API takes and shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ENTRA_EXAMPLE: dict[str, Any] = {
    "slug": "contoso",
    "protocol": "oidc",
    "oidc": {
        "issuer": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
        "client_id": "11111111-2222-3333-4444-555555555555",
        "client_secret": "the client secret from Certificates & secrets",
        "scopes": ["openid", "email", "profile"],
    },
    "allowed_domains": ["contoso.com"],
    "default_role": "engineer",
    "require_sso": True,
    "break_glass_emails": ["owner@contoso.com"],
}
GOOGLE_EXAMPLE: dict[str, Any] = {
    "slug": "fabrikam",
    "protocol": "oidc",
    "oidc": {
        "issuer": "https://accounts.google.com",
        "client_id": "1234567890-abc.apps.googleusercontent.com",
        "client_secret": "GOCSPX-the client secret",
        "scopes": ["openid", "email", "profile"],
    },
    "allowed_domains": ["fabrikam.com"],
    "default_role": "engineer",
    "require_sso": False,
    "break_glass_emails": [],
}


class OidcSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(
        min_length=8,
        max_length=500,
        description="The IdP's issuer; its discovery document is at "
        "{issuer}/.well-known/openid-configuration. "
        "Microsoft Entra ID: https://login.microsoftonline.com/{directory id}/v2.0; "
        "Google Workspace: https://accounts.google.com.",
    )
    client_id: str = Field(min_length=1, max_length=300)
    client_secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Write-only (stored encrypted). Required the first time; leave it out to keep it.",
    )
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"], max_length=20)


class SamlSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    idp_metadata_xml: str | None = Field(
        default=None,
        min_length=100,
        max_length=200_000,
        description="The IdP's SAML 2.0 metadata (an EntityDescriptor with an IDPSSODescriptor and its "
        "signing certificate), as downloaded from the IdP. Give this or idp_metadata_url.",
    )
    idp_metadata_url: str | None = Field(
        default=None,
        min_length=8,
        max_length=1000,
        description="Where the IdP publishes its metadata (e.g. Entra ID's Federation Metadata URL); "
        "fetched when the settings are saved (save again to pick up a new signing certificate).",
    )


class SsoSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ENTRA_EXAMPLE, GOOGLE_EXAMPLE]})
    slug: str = Field(
        min_length=2,
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
        description="The team's short name in the sign-in address /api/v1/auth/sso/{slug}/start.",
    )
    enabled: bool = True
    protocol: Literal["oidc", "saml"] = "oidc"
    oidc: OidcSettings | None = None
    saml: SamlSettings | None = Field(
        default=None,
        description="For protocol saml. Branchline's SP metadata is then at "
        "/api/v1/auth/sso/{slug}/saml/metadata (entity id: that URL; ACS: .../saml/acs).",
    )
    allowed_domains: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="E-mail domains whose verified users get an account on first sign-in (just in time).",
    )
    default_role: Literal["viewer", "engineer", "author"] = "engineer"
    require_sso: bool = Field(
        default=False, description="Refuse password sign-in for everyone but the break-glass owners."
    )
    break_glass_emails: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="Owners who may still sign in with a password when require_sso is on (at least one).",
    )


class DnsRecord(BaseModel):
    type: Literal["TXT"] = "TXT"
    name: str = Field(description="Where to publish it: `_branchline.` and the domain.")
    value: str = Field(description="`branchline-verification=` and this team's token for the domain.")


class SsoDomainStatus(BaseModel):
    """One allowed e-mail domain and its DNS proof."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "domain": "contoso.com",
                    "status": "verified",
                    "verified_at": "2026-12-04T16:20:00Z",
                    "record": {
                        "type": "TXT",
                        "name": "_branchline.contoso.com",
                        "value": "branchline-verification=3f0c9a1e5b7d4c2a8e6f1b0d9c7a5e3f",
                    },
                }
            ]
        }
    )
    domain: str
    status: Literal["pending", "verified", "taken"] = Field(
        description="`pending`: publish `record` and verify; `verified`: this team proved it; "
        "`taken`: another team proved it first (remove it from allowed_domains)."
    )
    verified_at: str | None = Field(description="When this team proved the domain (ISO 8601 UTC).")
    record: DnsRecord = Field(description="The TXT record that proves the domain for this team.")
