"""Request and response bodies of following, notifications and sharing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from airspace.inputs import MAX_ROW_ID, InputModel, whole_number
from airspace.sharing.models import NotificationKind
from airspace.sharing.shares import MOST_RECIPIENTS
from airspace.text import PlainText


class ProfileOut(BaseModel):
    username: str
    display_name: str
    followers: int
    you_follow: bool
    """Whether the asking account follows this one (False when anonymous)."""


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind
    message: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationsOut(BaseModel):
    unread: int
    items: list[NotificationOut]


class MarkRead(InputModel):
    up_to: Annotated[int, Field(ge=1, le=MAX_ROW_ID), BeforeValidator(whole_number)] | None = None
    """Mark read those up to this id (the newest the reader saw); all when left out."""


class ShareCreate(InputModel):
    comment: Annotated[PlainText, Field(max_length=280)] = ""
    followers: bool = False
    """Show the share in your followers' Following feed."""
    to: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=31)]], Field(max_length=MOST_RECIPIENTS)
    ] = []
    """Usernames to notify (the instance's direct message)."""
    at: Annotated[float, Field(ge=0, le=86_400)] | None = None
    """Where in the replay the share points, in seconds."""


class ShareOut(BaseModel):
    id: int
    space_id: str
    comment: str
    followers: bool
    notified: int
    created_at: datetime


class ShareLinksOut(BaseModel):
    link: str
    link_at_time: str | None
    embed_code: str
    compact_embed_code: str
    """The compact player (180 px high: title, Play and the seek bar)."""
    x_intent: str
    email: str
    shares: int
