"""Account request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from airspace.accounts.models import Role
from airspace.accounts.services import (
    EMAIL,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    USERNAME_PATTERN,
)
from airspace.inputs import InputModel
from airspace.text import PlainText, VisibleText


class Credentials(InputModel):
    username: str = Field(min_length=1, max_length=30)
    password: str = Field(min_length=1, max_length=128)


def _new_username(value: str) -> str:
    if not USERNAME_PATTERN.match(value):
        raise ValueError("must be 3 to 30 letters, digits or underscores")
    return value


NewUsername = Annotated[
    str,
    AfterValidator(_new_username),
    Field(
        json_schema_extra={"pattern": USERNAME_PATTERN.pattern},
        description="3 to 30 letters, digits or underscores; unique whatever the case.",
    ),
]


class Registration(InputModel):
    username: NewUsername
    password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        json_schema_extra={"pattern": r"\S"},
        description="Not only spaces, not the username, not among the most common passwords.",
    )
    display_name: VisibleText | None = Field(default=None, min_length=1, max_length=50)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    role: Role
    bio: str = ""
    avatar_version: int = Field(default=0, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def avatar_url(self) -> str:
        """Their picture (or their initials, drawn); a new picture has a new address."""
        return f"/@{self.username}/avatar?v={self.avatar_version}"


class MeOut(UserOut):
    captions_opt_out: bool
    podcast_feed: bool
    email: str | None


class SessionOut(BaseModel):
    user: MeOut
    csrf_token: str


EMAIL_OR_NOTHING = rf"^$|^{EMAIL}$"


class SettingsUpdate(InputModel):
    display_name: PlainText | None = Field(default=None, min_length=1, max_length=50)
    captions_opt_out: bool | None = None
    podcast_feed: bool | None = Field(
        default=None,
        description="Publish your public recordings as a podcast feed at /@username/feed.xml.",
    )
    email: str | None = Field(
        default=None,
        max_length=254,
        pattern=EMAIL_OR_NOTHING,
        description="Where notifications are emailed (when the instance sends email); "
        "an empty string removes it.",
    )
    bio: PlainText | None = Field(
        default=None, max_length=160, description="A line or two about you, on your profile."
    )


class TokenCreate(InputModel):
    name: VisibleText = Field(min_length=1, max_length=100)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown only once.")


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    message: str


class RoleUpdate(InputModel):
    role: Role = Field(strict=False)
