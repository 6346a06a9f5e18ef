"""Who is in a live room and what each may do: the rules, without any I/O.

Roles: one host, at most two co-hosts, speakers, listeners. The host, co-hosts and
speakers hold microphones, at most 13 in all. Each change returns the room event that
announces it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from airspace.errors import Conflict, Forbidden, NotFound

MAX_MICROPHONES = 13
MAX_COHOSTS = 2
LISTENER_PRESENCE_SECONDS = 15.0
"""A playlist fetch keeps an anonymous listener counted for this long."""

Event = dict[str, Any]


class RoomRole(enum.StrEnum):
    HOST = "host"
    COHOST = "cohost"
    SPEAKER = "speaker"
    LISTENER = "listener"


MIC_ROLES = frozenset({RoomRole.HOST, RoomRole.COHOST, RoomRole.SPEAKER})
MODERATOR_ROLES = frozenset({RoomRole.HOST, RoomRole.COHOST})


@dataclass
class Member:
    user_id: int
    username: str
    display_name: str
    role: RoomRole
    muted: bool = False
    hand_raised: bool = False
    speaking: bool = False
    connected: bool = False
    """Their microphone's WebRTC connection is up."""
    link: dict[str, Any] | None = None
    """How their connection is doing (LinkQuality.public()), while it is up."""

    def public(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "muted": self.muted,
            "hand_raised": self.hand_raised,
            "speaking": self.speaking,
            "connected": self.connected,
        }


@dataclass
class RoomState:
    space_id: str
    host_id: int
    recording: bool
    ticketed: bool = False
    members: dict[int, Member] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    participants: set[str] = field(default_factory=set)
    """Everyone who was ever in the room: ``user:<id>`` and ``listener:<session>``."""
    anonymous_seen: dict[str, float] = field(default_factory=dict)
    """Anonymous listener session → when it last fetched the live playlist (seconds)."""
    peak_listeners: int = 0
    member_sessions: dict[str, int] = field(default_factory=dict)
    stream_seen: dict[str, float] = field(default_factory=dict)
    """Every session that fetched the live playlist lately (members' too), oldest first:
    those actually listening, where the members are those with the page open."""
    """Listener session → the signed-in member it belongs to, who is counted as a member."""

    # -- presence --------------------------------------------------------------------

    def join(
        self, user_id: int, username: str, display_name: str, session: str | None = None
    ) -> Event | None:
        """Enter the room (as host if it is theirs, else as a listener); None if already in.
        ``session`` is the member's listener session, whose playlist fetches are theirs."""
        if user_id in self.removed:
            raise Forbidden("you were removed from this Space")
        if session is not None:
            self.member_sessions[session] = user_id
            self.anonymous_seen.pop(session, None)
        if user_id in self.members:
            return None
        role = RoomRole.HOST if user_id == self.host_id else RoomRole.LISTENER
        member = Member(user_id, username, display_name, role)
        self.members[user_id] = member
        self.participants.add(f"user:{user_id}")
        return self.event("joined", member)

    def leave(self, user_id: int) -> Event | None:
        member = self.members.pop(user_id, None)
        return self.event("left", member) if member is not None else None

    def heard_listener(self, session: str, now: float) -> None:
        """A session fetched the live playlist at ``now`` (seconds); sessions of members
        in the room are already counted as members."""
        self.stream_seen.pop(session, None)
        self.stream_seen[session] = now
        if self.member_sessions.get(session) in self.members:
            return
        # Kept in the order last heard (a session moves to the end), so the stale ones
        # are always in front: every playlist request costs O(1), however many listen.
        if self.anonymous_seen.pop(session, None) is None:
            self.participants.add(f"listener:{session}")
        self.anonymous_seen[session] = now
        self.listener_count(now)

    def listener_count(self, now: float) -> int:
        """Listeners in the room at ``now``: members without a microphone (their page is
        open) and recent playlist readers who are not members."""
        _forget_stale(self.anonymous_seen, now)
        count = len(self.anonymous_seen) + sum(
            1 for m in self.members.values() if m.role is RoomRole.LISTENER
        )
        self.peak_listeners = max(self.peak_listeners, count)
        return count

    def listening_count(self, now: float) -> int:
        """Those playing the live stream at ``now`` (its playlist fetched lately)."""
        _forget_stale(self.stream_seen, now)
        return len(self.stream_seen)

    # -- requests and roles ----------------------------------------------------------

    def ask_to_speak(self, user_id: int, blocked_by_host: bool) -> Event:
        member = self.member(user_id)
        if blocked_by_host:
            raise Forbidden("the host has blocked this account")
        if member.role is not RoomRole.LISTENER:
            raise Conflict("you can already speak")
        member.hand_raised = True
        return self.event("asked_to_speak", member)

    def approve(self, actor_id: int, username: str, blocked_by_host: bool) -> Event:
        """Give a listener a microphone (answering a request, or inviting them); never to
        an account the host has blocked."""
        self._require_moderator(actor_id, "approve speakers")
        member = self.by_username(username)
        if blocked_by_host:
            raise Forbidden(f"the host has blocked {username}; they cannot speak here")
        if member.role is not RoomRole.LISTENER:
            raise Conflict(f"{username} can already speak")
        self._require_free_microphone()
        member.role = RoomRole.SPEAKER
        member.hand_raised = False
        member.muted = False
        return self.event("approved", member)

    def add_cohost(self, actor_id: int, username: str, blocked_by_host: bool) -> Event:
        if actor_id != self.host_id:
            raise Forbidden("only the host can add co-hosts")
        member = self.by_username(username)
        if blocked_by_host:
            raise Forbidden(f"the host has blocked {username}; they cannot speak here")
        if member.role in MODERATOR_ROLES:
            raise Conflict(f"{username} is already a {member.role.value}")
        if sum(1 for m in self.members.values() if m.role is RoomRole.COHOST) >= MAX_COHOSTS:
            raise Conflict(f"a Space has at most {MAX_COHOSTS} co-hosts")
        if member.role is RoomRole.LISTENER:
            self._require_free_microphone()
        member.role = RoomRole.COHOST
        member.hand_raised = False
        return self.event("cohost_added", member)

    def make_listener(self, actor_id: int, username: str) -> Event:
        """Take a microphone back; speakers may step down themselves."""
        member = self.by_username(username)
        if member.user_id != actor_id:
            self._require_moderator(actor_id, "move speakers to listeners")
            self._require_outranks(actor_id, member)
        if member.role is RoomRole.HOST:
            raise Conflict("the host keeps their microphone")
        if member.role is RoomRole.LISTENER:
            raise Conflict(f"{username} is already a listener")
        member.role = RoomRole.LISTENER
        member.muted = False
        member.speaking = False
        return self.event("made_listener", member)

    def set_muted(self, actor_id: int, username: str, muted: bool) -> Event:
        """Anyone with a microphone mutes or unmutes themselves; host and co-hosts mute
        others (but only the speaker turns their own microphone back on)."""
        member = self.by_username(username)
        if member.role not in MIC_ROLES:
            raise Conflict(f"{username} has no microphone")
        if member.user_id != actor_id:
            if not muted:
                raise Forbidden("only speakers unmute themselves")
            self._require_moderator(actor_id, "mute speakers")
            self._require_outranks(actor_id, member)
        member.muted = muted
        if muted:
            member.speaking = False
        return self.event("muted" if muted else "unmuted", member)

    def remove(self, actor_id: int, username: str) -> Event:
        """Put someone out of the room for the rest of the Space."""
        self._require_moderator(actor_id, "remove people")
        member = self.by_username(username)
        self._require_outranks(actor_id, member)
        del self.members[member.user_id]
        self.removed.add(member.user_id)
        return self.event("removed", member)

    def can_publish(self, user_id: int) -> bool:
        member = self.members.get(user_id)
        return member is not None and member.role in MIC_ROLES

    # -- helpers ---------------------------------------------------------------------

    def member(self, user_id: int) -> Member:
        member = self.members.get(user_id)
        if member is None:
            raise Conflict("join the room first")
        return member

    def by_username(self, username: str) -> Member:
        for member in self.members.values():
            if member.username.lower() == username.lower():
                return member
        raise NotFound(f"{username} is not in this room")

    def microphones(self) -> int:
        held = sum(1 for m in self.members.values() if m.role in MIC_ROLES)
        # The host's microphone is theirs whether or not they are in the room yet.
        return held + (0 if self.host_id in self.members else 1)

    def _require_free_microphone(self) -> None:
        if self.microphones() >= MAX_MICROPHONES:
            raise Conflict(f"all {MAX_MICROPHONES} microphones are taken")

    def _role_of(self, user_id: int) -> RoomRole | None:
        if user_id == self.host_id:
            return RoomRole.HOST
        member = self.members.get(user_id)
        return member.role if member is not None else None

    def _require_moderator(self, actor_id: int, action: str) -> None:
        if self._role_of(actor_id) not in MODERATOR_ROLES:
            raise Forbidden(f"only the host and co-hosts can {action}")

    def _require_outranks(self, actor_id: int, member: Member) -> None:
        if member.role is RoomRole.HOST:
            raise Forbidden("nobody can do that to the host")
        if member.role is RoomRole.COHOST and actor_id != self.host_id:
            raise Forbidden("only the host can do that to a co-host")

    def event(self, kind: str, member: Member | None = None, **extra: Any) -> Event:
        event: Event = {"type": kind, "space_id": self.space_id, "recording": self.recording}
        if member is not None:
            event["member"] = member.public()
        event.update(extra)
        return event

    def snapshot(self, now: float) -> Event:
        """The whole room, as a ``state`` event: what a client sees first."""
        members = sorted(
            self.members.values(),
            key=lambda m: (list(RoomRole).index(m.role), m.username),
        )
        return self.event(
            "state",
            members=[m.public() for m in members],
            listener_count=self.listener_count(now),
            listening_count=self.listening_count(now),
            participant_count=len(self.participants),
            microphones=self.microphones(),
        )

    # -- takeover ----------------------------------------------------------------------

    def roster(self) -> dict[str, Any]:
        """Who is in the room with which role (JSON): what the owner saves as it renews
        its lease, and what a node taking the room over starts from."""
        return {
            "members": [
                {
                    "user_id": m.user_id,
                    "username": m.username,
                    "display_name": m.display_name,
                    "role": m.role.value,
                    "muted": m.muted,
                    "hand_raised": m.hand_raised,
                }
                for m in self.members.values()
            ],
            "removed": sorted(self.removed),
        }

    def restore(self, roster: dict[str, Any]) -> None:
        """Take the members and removals of a saved ``roster``; nobody's microphone is
        connected yet (each reconnects to this node)."""
        for saved in roster.get("members", []):
            member = Member(
                int(saved["user_id"]),
                str(saved["username"]),
                str(saved["display_name"]),
                RoomRole(saved["role"]),
                muted=bool(saved.get("muted", False)),
                hand_raised=bool(saved.get("hand_raised", False)),
            )
            self.members[member.user_id] = member
            self.participants.add(f"user:{member.user_id}")
        self.removed.update(int(user_id) for user_id in roster.get("removed", []))


def _forget_stale(seen: dict[str, float], now: float) -> None:
    """Drop the sessions not heard from for ``LISTENER_PRESENCE_SECONDS`` (kept in the
    order last heard, so the stale ones are in front: O(1) per request)."""
    while seen:
        oldest = next(iter(seen))
        if now - seen[oldest] <= LISTENER_PRESENCE_SECONDS:
            break
        del seen[oldest]
