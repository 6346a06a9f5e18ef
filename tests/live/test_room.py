"""The room rules on their own: roles, microphones, listener counts."""

from __future__ import annotations

import pytest

from airspace.errors import Conflict, Forbidden
from airspace.live.room import LISTENER_PRESENCE_SECONDS, MAX_MICROPHONES, RoomRole, RoomState

HOST = 1


def room_with(listeners: int) -> RoomState:
    state = RoomState(space_id="s" * 13, host_id=HOST, recording=True)
    state.join(HOST, "host", "Host")
    for n in range(listeners):
        state.join(100 + n, f"user{n}", f"User {n}")
    return state


def test_the_host_holds_a_microphone_even_before_joining() -> None:
    state = RoomState(space_id="s" * 13, host_id=HOST, recording=False)
    assert state.microphones() == 1
    joined = state.join(HOST, "host", "Host")
    assert joined is not None
    assert joined["member"]["role"] == "host"
    assert state.microphones() == 1
    assert state.join(HOST, "host", "Host") is None  # joining twice changes nothing


def test_microphones_run_out_at_thirteen() -> None:
    state = room_with(MAX_MICROPHONES)
    for n in range(MAX_MICROPHONES - 1):
        state.approve(HOST, f"user{n}", False)
    with pytest.raises(Conflict, match="13 microphones"):
        state.approve(HOST, f"user{MAX_MICROPHONES - 1}", False)
    state.make_listener(100, "user0")  # a speaker steps down themselves
    state.approve(HOST, f"user{MAX_MICROPHONES - 1}", False)


def test_cohosts_moderate_but_not_each_other() -> None:
    state = room_with(3)
    state.add_cohost(HOST, "user0", False)
    state.add_cohost(HOST, "user1", False)
    assert state.by_username("user0").role is RoomRole.COHOST
    with pytest.raises(Forbidden):
        state.remove(100, "user1")
    state.approve(100, "user2", False)
    state.set_muted(100, "user2", True)
    with pytest.raises(Forbidden):
        state.set_muted(100, "user2", False)
    state.set_muted(102, "user2", False)
    removed = state.remove(100, "user2")
    assert removed["type"] == "removed"
    with pytest.raises(Forbidden):
        state.join(102, "user2", "User 2")


def test_listeners_count_members_and_recent_playlist_readers() -> None:
    state = room_with(2)
    assert state.listener_count(0.0) == 2
    state.heard_listener("anon-a", 1.0)
    state.heard_listener("anon-b", 2.0)
    assert state.listener_count(3.0) == 4
    assert state.peak_listeners == 4
    assert state.listener_count(2.0 + LISTENER_PRESENCE_SECONDS + 1) == 2
    assert state.peak_listeners == 4
    assert len(state.participants) == 5  # host, two members, two anonymous sessions


def test_a_member_listening_to_the_stream_is_counted_once() -> None:
    state = room_with(0)
    state.heard_listener("browser-a", 1.0)  # the stream, before joining the room
    state.join(200, "eve", "Eve", session="browser-a")
    assert state.listener_count(2.0) == 1
    state.heard_listener("browser-a", 3.0)  # and after
    assert state.listener_count(4.0) == 1
    assert state.peak_listeners == 1
    state.leave(200)
    state.heard_listener("browser-a", 5.0)  # left the room, still listening
    assert state.listener_count(6.0) == 1


def test_asking_to_speak_is_for_listeners_who_are_not_blocked() -> None:
    state = room_with(1)
    with pytest.raises(Forbidden):
        state.ask_to_speak(100, blocked_by_host=True)
    assert state.ask_to_speak(100, blocked_by_host=False)["member"]["hand_raised"] is True
    state.approve(HOST, "user0", False)
    with pytest.raises(Conflict):
        state.ask_to_speak(100, blocked_by_host=False)
    with pytest.raises(Conflict, match="join"):
        state.ask_to_speak(999, blocked_by_host=False)


def test_listening_counts_only_those_playing_the_stream() -> None:
    state = room_with(3)  # three members with the page open, nobody playing yet
    assert state.listening_count(0.0) == 0
    assert state.listener_count(0.0) == 3
    state.join(200, "eve", "Eve", session="browser-e")
    state.heard_listener("browser-e", 1.0)  # a member presses Listen
    state.heard_listener("anon-a", 2.0)  # someone plays the stream without the page
    assert state.listening_count(3.0) == 2
    assert state.snapshot(3.0)["listening_count"] == 2
    state.heard_listener("anon-a", 10.0)
    assert state.listening_count(1.0 + LISTENER_PRESENCE_SECONDS + 1) == 1  # eve stopped
