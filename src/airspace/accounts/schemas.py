"""Account request and response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from airspace.accounts.models import Role
from airspace.text import PlainText


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=30)
    password: str = Field(min_length=1, max_length=128)


class Registration(Credentials):
    display_name: PlainText | None = Field(default=None, max_length=50)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    role: Role


class MeOut(UserOut):
    captions_opt_out: bool


class SessionOut(BaseModel):
    user: MeOut
    csrf_token: str


class SettingsUpdate(BaseModel):
    display_name: PlainText | None = Field(default=None, min_length=1, max_length=50)
    captions_opt_out: bool | None = None


class TokenCreate(BaseModel):
    name: PlainText = Field(min_length=1, max_length=100)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown only once.")


class RoleUpdate(BaseModel):
    role: Role
