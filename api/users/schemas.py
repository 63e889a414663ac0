from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

RoleName = Literal["owner", "admin", "author", "engineer", "viewer"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(default="", max_length=120)
    role: RoleName = "engineer"
    password: str | None = Field(
        default=None, max_length=256, description="Leave out to have a random one generated and shown once."
    )


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    role: RoleName | None = None
    active: bool | None = None
    reviewer: StrictBool | None = Field(
        default=None,
        description="A named reviewer approves publish reviews of tree drafts, like admins and owners.",
    )


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str = Field(min_length=1, max_length=120)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class UserInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(default="", max_length=120)
    role: RoleName = "engineer"


class InviteAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=500)
    password: str = Field(max_length=256)
    display_name: str | None = Field(default=None, max_length=120)


class InviteCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=500)


class ForgotPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)


class ResetCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=500)


class ResetPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=500)
    password: str = Field(max_length=256)
