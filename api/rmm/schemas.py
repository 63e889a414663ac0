"""Request bodies of the RMM routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Limits(BaseModel):
    timeout_seconds: int = Field(
        default=600,
        ge=10,
        le=86_400,
        description="A run not finished this long after its submit ends timed_out.",
    )
    output_limit_bytes: int = Field(
        default=1_000_000,
        ge=1_000,
        le=20_000_000,
        description="Output kept per run; a longer output is cut, with a line saying so.",
    )


class NinjaOneConfig(_Limits):
    """The whole configuration; `client_secret` may be left out to keep the stored one."""

    model_config = ConfigDict(extra="forbid")
    instance_url: str = Field(max_length=300, examples=["https://app.ninjarmm.com"])
    client_id: str = Field(min_length=1, max_length=300, description="Client ID of an API Services app.")
    client_secret: str | None = Field(default=None, max_length=500, description="Write-only; never answered.")
    runner_script_id: int = Field(
        ge=1, description="Id of the Branchline runner script in NinjaOne's library."
    )
    output_field: str = Field(
        default="branchlineResult",
        pattern=r"^[A-Za-z][A-Za-z0-9]{0,99}$",
        description="Device custom field the runner writes its result into.",
    )
    run_as: str = Field(
        default="system", max_length=100, description="NinjaOne's runAs (credential or role)."
    )


class DattoConfig(_Limits):
    """The whole configuration; `api_secret` may be left out to keep the stored one."""

    model_config = ConfigDict(extra="forbid")
    api_url: str = Field(max_length=300, examples=["https://merlot-api.centrastage.net"])
    api_key: str = Field(min_length=1, max_length=300)
    api_secret: str | None = Field(default=None, max_length=500, description="Write-only; never answered.")
    component_uid: str = Field(
        min_length=1, max_length=100, description="Uid of the imported Branchline runner component."
    )


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    device_name: str | None = Field(default=None, max_length=200)


class ScriptRunCreate(BaseModel):
    """A run of a published script on one device. The server reads the script and renders it
    itself; `script_text`, when a device sends what it showed the engineer, must equal that
    rendering (else 409), so what was shown is what runs."""

    model_config = ConfigDict(extra="forbid")
    node_id: str = Field(min_length=1, max_length=200)
    script_id: str = Field(min_length=1, max_length=200)
    version: int | None = Field(
        default=None, ge=1, description="A published version; the latest when left out."
    )
    parameters: dict[str, Any] = Field(default_factory=dict)
    target: Target
    system: Literal["ninjaone", "datto"] | None = Field(
        default=None, description="The RMM; needed only when several are configured."
    )
    script_text: str | None = Field(default=None, max_length=200_000)
    request_id: str | None = Field(
        default=None,
        pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$",
        description="A ULID made by the device: the same request sent again answers the same run.",
    )
    at_step: str | None = Field(
        default=None,
        max_length=300,
        description="Where the session stood when the engineer asked: the `event_id` of the "
        "latest step in the state's `path`, or `start` before the first answer. When given, a "
        "session that has moved on, gone back or ended since refuses the run (409 `stale_run`): "
        "a run queued offline never reaches a device once its step is over.",
    )
