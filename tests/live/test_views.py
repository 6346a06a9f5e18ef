"""The room API's rules and its bad-input answers, on both databases."""

from __future__ import annotations

import time
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from airspace.accounts.listeners import LISTENER_COOKIE
from airspace.live.live_room import LiveRoom
from airspace.live.recorder import live_prefix
from airspace.live.views import SPEAK_REQUESTS
from airspace.wiring import Services
from tests.conftest import register


def live_space(client: TestClient, host: dict[str, str], record: bool = True) -> str:
    space_id: str = client.post(
        "/api/v1/spaces", json={"title": "Room", "record": record}, headers=host
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/start", headers=host).status_code == 200
    return space_id


def room(space_id: str, path: str = "") -> str:
    return f"/api/v1/spaces/{space_id}/room{path}"


def test_thirteen_microphones_at_most_and_two_cohosts(client: TestClient) -> None:
    host = register(client, "host")
    space_id = live_space(client, host)
    client.post(room(space_id, "/join"), headers=host)
    people = {}
    for n in range(13):
        people[n] = register(client, f"person{n}")
        assert client.post(room(space_id, "/join"), headers=people[n]).status_code == 200
    for n in range(12):  # the host holds the first microphone
        client.post(room(space_id, "/requests"), headers=people[n])
        approved = client.post(
            room(space_id, "/speakers"), json={"username": f"person{n}"}, headers=host
        )
        assert approved.status_code == 200, approved.text
    client.post(room(space_id, "/requests"), headers=people[12])
    refused = client.post(room(space_id, "/speakers"), json={"username": "person12"}, headers=host)
    assert refused.status_code == 409
    assert "13 microphones" in refused.json()["detail"]
    assert client.get(room(space_id)).json()["microphones"] == 13

    for n in (0, 1):
        made = client.post(
            room(space_id, "/cohosts"), json={"username": f"person{n}"}, headers=host
        )
        assert made.status_code == 200
        assert made.json()["member"]["role"] == "cohost"
    third = client.post(room(space_id, "/cohosts"), json={"username": "person2"}, headers=host)
    assert third.status_code == 409
    by_cohost = client.post(
        room(space_id, "/cohosts"), json={"username": "person2"}, headers=people[0]
    )
    assert by_cohost.status_code == 403

    # A co-host frees a microphone by moving a speaker back; then person12 gets it.
    moved = client.post(room(space_id, "/members/person5/listener"), headers=people[0])
    assert moved.status_code == 200
    assert moved.json()["member"]["role"] == "listener"
    approved = client.post(
        room(space_id, "/speakers"), json={"username": "person12"}, headers=people[1]
    )
    assert approved.status_code == 200


def test_moderation_rules(client: TestClient) -> None:
    host = register(client, "host")
    speaker = register(client, "speaker")
    listener = register(client, "listener")
    space_id = live_space(client, host)
    for who in (host, speaker, listener):
        client.post(room(space_id, "/join"), headers=who)
    client.post(room(space_id, "/speakers"), json={"username": "speaker"}, headers=host)

    # Listeners cannot moderate; nobody moderates the host.
    assert client.post(room(space_id, "/members/speaker/mute"), headers=listener).status_code == 403
    assert client.post(room(space_id, "/members/host/mute"), headers=speaker).status_code == 403
    assert client.delete(room(space_id, "/members/host"), headers=host).status_code == 403

    muted = client.post(room(space_id, "/members/speaker/mute"), headers=host)
    assert muted.status_code == 200
    assert muted.json()["member"]["muted"] is True
    # Only the speaker turns their own microphone back on.
    assert client.post(room(space_id, "/members/speaker/unmute"), headers=host).status_code == 403
    unmuted = client.post(room(space_id, "/members/speaker/unmute"), headers=speaker)
    assert unmuted.status_code == 200
    assert unmuted.json()["member"]["muted"] is False
    assert client.post(room(space_id, "/members/listener/mute"), headers=host).status_code == 409

    removed = client.delete(room(space_id, "/members/listener"), headers=host)
    assert removed.status_code == 200
    assert removed.json()["type"] == "removed"
    again = client.post(room(space_id, "/join"), headers=listener)
    assert again.status_code == 403
    assert client.delete(room(space_id, "/members/nobody"), headers=host).status_code == 404

    # Only the host ends the Space.
    assert client.post(f"/api/v1/spaces/{space_id}/end", headers=speaker).status_code == 403
    assert client.post(f"/api/v1/spaces/{space_id}/end", headers=host).status_code == 200


def test_blocked_accounts_cannot_ask_to_speak(client: TestClient) -> None:
    host = register(client, "host")
    blocked = register(client, "blocked")
    assert client.put("/api/v1/me/blocks/blocked", headers=host).status_code == 204
    space_id = live_space(client, host)
    assert client.post(room(space_id, "/join"), headers=blocked).status_code == 200
    refused = client.post(room(space_id, "/requests"), headers=blocked)
    assert refused.status_code == 403
    assert "blocked" in refused.json()["detail"]


def test_asking_to_speak_again_and_again_is_limited(client: TestClient) -> None:
    host = register(client, "host")
    eager = register(client, "eager")
    space_id = live_space(client, host)
    assert client.post(room(space_id, "/join"), headers=eager).status_code == 200
    for _ in range(SPEAK_REQUESTS.count):
        assert client.post(room(space_id, "/requests"), headers=eager).status_code == 200
    refused = client.post(room(space_id, "/requests"), headers=eager)
    assert refused.status_code == 429
    assert "requests to speak" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0


def test_nobody_gives_a_blocked_account_a_microphone(client: TestClient) -> None:
    host = register(client, "host")
    cohost = register(client, "cohost")
    blocked = register(client, "blocked")
    assert client.put("/api/v1/me/blocks/blocked", headers=host).status_code == 204
    space_id = live_space(client, host)
    for who in (host, cohost, blocked):
        assert client.post(room(space_id, "/join"), headers=who).status_code == 200
    assert client.post(
        room(space_id, "/cohosts"), json={"username": "cohost"}, headers=host
    ).is_success
    for actor in (host, cohost):  # neither the host nor a co-host can invite them up
        refused = client.post(
            room(space_id, "/speakers"), json={"username": "blocked"}, headers=actor
        )
        assert refused.status_code == 403
        assert "blocked" in refused.json()["detail"]
    refused = client.post(room(space_id, "/cohosts"), json={"username": "blocked"}, headers=host)
    assert refused.status_code == 403
    members = client.get(room(space_id), headers=host).json()["members"]
    assert {m["username"]: m["role"] for m in members}["blocked"] == "listener"


def test_a_host_runs_one_live_space_at_a_time(client: TestClient) -> None:
    host = register(client, "host")
    first = live_space(client, host)
    second = client.post("/api/v1/spaces", json={"title": "Another"}, headers=host).json()["id"]
    refused = client.post(f"/api/v1/spaces/{second}/start", headers=host)
    assert refused.status_code == 409
    assert "already host 1 live Space" in refused.json()["detail"]
    assert client.post(f"/api/v1/spaces/{first}/end", headers=host).status_code == 200
    assert client.post(f"/api/v1/spaces/{second}/start", headers=host).status_code == 200


def test_joining_a_space_that_is_not_live(client: TestClient) -> None:
    host = register(client, "host")
    guest = register(client, "guest")
    scheduled = client.post("/api/v1/spaces", json={"title": "Later"}, headers=host).json()["id"]
    assert client.post(room(scheduled, "/join"), headers=guest).status_code == 409
    client.post(f"/api/v1/spaces/{scheduled}/cancel", headers=host)
    canceled = client.post(room(scheduled, "/join"), headers=guest)
    assert canceled.status_code == 409
    assert "canceled" in canceled.json()["detail"]

    space_id = live_space(client, host)
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    ended = client.post(room(space_id, "/join"), headers=guest)
    assert ended.status_code == 409
    assert "ended" in ended.json()["detail"]
    assert client.post(room("0000000000000", "/join"), headers=guest).status_code == 404


@pytest.mark.parametrize(
    "sdp",
    [
        "hello",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",  # no audio at all
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n",  # no Opus
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\ngarbage",
        # PCMU first: the answer would keep that order and a browser would send PCMU
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 111\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:111 opus/48000/2\r\n",
        # two microphones in one offer
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n",
    ],
)
def test_a_malformed_offer_is_refused_with_400(client: TestClient, sdp: str) -> None:
    host = register(client, "host")
    space_id = live_space(client, host)
    client.post(room(space_id, "/join"), headers=host)
    response = client.post(
        room(space_id, "/microphone"), json={"type": "offer", "sdp": sdp}, headers=host
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"]
    assert client.get(room(space_id)).status_code == 200  # the room carries on


def test_publishing_without_speaker_rights_is_forbidden(client: TestClient) -> None:
    host = register(client, "host")
    guest = register(client, "guest")
    space_id = live_space(client, host)
    client.post(room(space_id, "/join"), headers=guest)
    response = client.post(
        room(space_id, "/microphone"), json={"type": "offer", "sdp": "v=0"}, headers=guest
    )
    assert response.status_code == 403


def test_garbage_on_the_socket_disconnects_only_that_client(client: TestClient) -> None:
    host = register(client, "host")
    space_id = live_space(client, host)
    with (
        client.websocket_connect(room(space_id, "/events")) as good,
        client.websocket_connect(room(space_id, "/events")) as bad,
    ):
        assert good.receive_json()["type"] == "state"
        assert bad.receive_json()["type"] == "state"
        bad.send_bytes(b"\x00\xffnot json")
        with pytest.raises(WebSocketDisconnect) as closed:
            bad.receive_json()
        assert closed.value.code == 1008
        good.send_json({"type": "ping"})
        assert good.receive_json() == {"type": "pong"}
        client.post(room(space_id, "/join"), headers=host)
        joined = good.receive_json()
        assert joined["type"] == "joined"
        assert joined["member"]["username"] == "host"
        assert joined["recording"] is True


def test_a_refused_socket_says_why(client: TestClient) -> None:
    """Accepted, then closed with 1008 and the reason: what the room page shows."""
    host = register(client, "host")
    scheduled = client.post("/api/v1/spaces", json={"title": "Later"}, headers=host).json()
    for space_id, reason in (("AAAAAAAAAAAAA", "no Space"), (scheduled["id"], "not live")):
        with (
            client.websocket_connect(room(space_id, "/events")) as refused,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            refused.receive_json()
        assert closed.value.code == 1008
        assert reason in closed.value.reason


def test_the_room_socket_refuses_other_sites_and_bad_tokens(client: TestClient) -> None:
    host = register(client, "host")
    space_id = live_space(client, host)
    refusals = (
        ({"Origin": "https://evil.example"}, "another site"),
        ({"Authorization": "Bearer not-a-token"}, "invalid or revoked"),
        ({"Authorization": "Basic abc"}, "invalid or revoked"),
    )
    for headers, reason in refusals:
        with (
            client.websocket_connect(room(space_id, "/events"), headers=headers) as refused,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            refused.receive_json()
        assert closed.value.code == 1008
        assert reason in closed.value.reason
    # The site's own pages, and clients that are not browsers, are let in.
    for headers in ({"Origin": "http://testserver"}, host):
        with client.websocket_connect(room(space_id, "/events"), headers=headers) as socket:
            assert socket.receive_json()["type"] == "state"


def test_an_unrecorded_space_leaves_nothing_behind(client: TestClient, services: Services) -> None:
    host = register(client, "host")
    space_id = live_space(client, host, record=False)
    time.sleep(2.5)  # one segment is stored and named by the live playlist
    playlist = client.get(f"/i/spaces/{space_id}/live.m3u8")
    assert playlist.status_code == 200
    segment = playlist.text.splitlines()[-1]
    assert segment == "live/000000.ts"
    segment_url = urljoin(str(playlist.url), segment)
    assert client.get(segment_url).status_code == 200
    assert services.storage.list(live_prefix(space_id))
    space = client.post(f"/api/v1/spaces/{space_id}/end", headers=host).json()
    assert space["recording"] is None
    assert services.storage.list(live_prefix(space_id)) == []
    assert client.get(f"/i/spaces/{space_id}/live.m3u8").status_code == 410
    assert client.get(segment_url).status_code == 404


def test_a_recorded_space_ends_its_live_playlist(client: TestClient) -> None:
    host = register(client, "host")
    space_id = live_space(client, host)
    time.sleep(2.5)
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    playlist = client.get(f"/i/spaces/{space_id}/live.m3u8")
    assert playlist.status_code == 200
    assert playlist.text.rstrip().endswith("#EXT-X-ENDLIST")
    names = [line for line in playlist.text.splitlines() if line.startswith("live/")]
    assert names == ["live/000000.ts", "live/000001.ts"]
    for name in names:
        assert client.get(urljoin(str(playlist.url), name)).status_code == 200


def test_a_ticketed_space_is_for_ticket_holders(client: TestClient) -> None:
    host = register(client, "host")
    holder = register(client, "holder")
    stranger = register(client, "stranger")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Tickets", "ticket_capacity": 5}, headers=host
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/tickets", json={}, headers=holder).is_success
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    assert client.post(room(space_id, "/join"), headers=stranger).status_code == 403
    assert client.post(room(space_id, "/join"), headers=holder).status_code == 200
    assert client.get(f"/i/spaces/{space_id}/live.m3u8").status_code == 403
    assert client.get(f"/i/spaces/{space_id}/live.m3u8", headers=stranger).status_code == 403
    granted = client.get(f"/i/spaces/{space_id}/live.m3u8", headers=holder)
    assert granted.status_code == 200
    assert granted.headers["cache-control"] == "private, no-cache"
    assert client.get(f"/i/spaces/{space_id}/live/000000.ts").status_code == 404


def test_a_member_whose_last_page_closed_leaves_after_a_grace_period(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LiveRoom, "page_grace_seconds", 0.3)
    host = register(client, "host")
    eve = register(client, "eve")
    space_id = live_space(client, host)
    client.post(room(space_id, "/join"), headers=eve)
    with client.websocket_connect(room(space_id, "/events"), headers=host) as watching:
        assert watching.receive_json()["type"] == "state"
        # A reload: the page closes and opens again within the grace period.
        with client.websocket_connect(room(space_id, "/events"), headers=eve) as page:
            page.receive_json()
        with client.websocket_connect(room(space_id, "/events"), headers=eve) as page:
            page.receive_json()
            time.sleep(0.6)
            members = client.get(room(space_id)).json()["members"]
            assert "eve" in [m["username"] for m in members]
        # Closed for good: eve leaves, and the room hears why.
        left = watching.receive_json()
        assert (left["type"], left["member"]["username"]) == ("left", "eve")
        assert left["reason"] == "page closed"
    assert [m["username"] for m in client.get(room(space_id)).json()["members"]] == []


def test_joining_remembers_the_browser_so_its_stream_counts_once(client: TestClient) -> None:
    host = register(client, "host")
    eve = register(client, "eve")
    space_id = live_space(client, host)
    client.cookies.clear()
    joined = client.post(room(space_id, "/join"), headers=eve)
    assert LISTENER_COOKIE in joined.cookies
    client.get(f"/i/spaces/{space_id}/live.m3u8")  # the same browser, listening
    assert client.get(room(space_id)).json()["listener_count"] == 1
