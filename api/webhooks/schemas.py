"""Request bodies of the webhook routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventName = Literal[
    "session.started",
    "session.completed",
    "session.abandoned",
    "tree.published",
    "attachment.added",
    "tree.needs_review",
]
PresetName = Literal["standard", "slack", "teams"]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, examples=["https://hooks.example-msp.com/branchline"])
    events: list[EventName] = Field(min_length=1, max_length=6, examples=[["session.completed"]])
    description: str | None = Field(default=None, max_length=500)
    preset: PresetName = Field(
        default="standard",
        description="`standard`: the Standard Webhooks JSON body. `slack` or `teams`: a readable message "
        "for a Slack or Microsoft Teams incoming-webhook URL.",
    )


class WebhookUpdate(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, max_length=2000)
    events: list[EventName] | None = Field(default=None, min_length=1, max_length=6)
    description: str | None = Field(default=None, max_length=500)
    preset: PresetName | None = None
    enabled: bool | None = Field(
        default=None, description="false pauses deliveries (events still queue); true resumes a failing one."
    )
