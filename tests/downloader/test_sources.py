"""Airspace and X links, resolved against local stand-ins built from the real response shapes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import mutagen.id3
import pytest

from airspace.downloader import download
from airspace.downloader.errors import (
    DownloadError,
    NoSpaceInTweet,
    NotRecorded,
    PlaylistMissing,
    RecordingDeleted,
    RecordingExpired,
    SpaceIsLive,
    SpaceNotFound,
    SpacePrivate,
    UnsupportedURL,
)
from airspace.downloader.x import XConfig, master_playlist_url
from tests.audio import SAMPLE_RATE, best_lag, decode
from tests.downloader.hls_server import FakeServer, Reply, Request, make_recording

FAST = {"chunk_seconds": 5.0, "retries": 1, "workers": 2}
SPACE_ID = "1AbCdEfGhIjKl"
COVER = b"\x89PNG\r\n\x1a\n" + b"cover-bytes" * 10


def airspace_space(server: FakeServer, **overrides: object) -> dict[str, object]:
    space: dict[str, object] = {
        "id": SPACE_ID,
        "url": f"{server.url}/i/spaces/{SPACE_ID}",
        "title": "Night Owls: episode 4",
        "host": {"username": "ada", "display_name": "Ada Lovelace", "role": "user"},
        "state": "ended",
        "record": True,
        "started_at": "2026-11-20T21:00:00Z",
        "recording": {
            "state": "available",
            "start_offset_seconds": 1.5,
            "playlist_url": f"{server.url}/hls/index.m3u8",
            "cover_url": f"{server.url}/cover.png",
        },
    }
    space.update(overrides)
    return space


@pytest.mark.parametrize("suffix", ["", "?t=90", "/embed"])
def test_airspace_link_gives_a_tagged_trimmed_mp3(
    server: FakeServer, tmp_path: Path, suffix: str
) -> None:
    recording = make_recording(12.0, "ts", seed=11)
    server.serve_recording(recording)
    server.static("/cover.png", COVER, "image/png")
    server.json(f"/api/v1/spaces/{SPACE_ID}", airspace_space(server))
    result = download(
        f"{server.url}/i/spaces/{SPACE_ID}{suffix}",
        str(tmp_path / "%(host)s - %(title)s (%(date)s).%(ext)s"),
        **FAST,
    )
    assert result.path.name == "Ada Lovelace - Night Owls_ episode 4 (2026-11-20).mp3"
    expected, _ = decode(b"".join(recording.frames), format="aac")
    skip = round(1.5 * SAMPLE_RATE)
    assert result.duration == (len(expected) - skip) / SAMPLE_RATE
    decoded, _ = decode(result.path)
    lag, correlation = best_lag(expected[skip:], decoded)
    assert lag == 0
    assert correlation > 0.95
    tags = mutagen.id3.ID3(result.path)
    assert str(tags["TIT2"]) == "Night Owls: episode 4"
    assert str(tags["TPE1"]) == "Ada Lovelace"
    assert str(tags["TDRC"]) == "2026-11-20"
    assert str(tags.getall("COMM")[0]) == f"{server.url}/i/spaces/{SPACE_ID}"
    assert tags.getall("APIC")[0].data == COVER


@pytest.mark.parametrize(
    ("overrides", "status", "error", "message"),
    [
        (
            {"state": "live"},
            200,
            SpaceIsLive,
            "This Space is live; use --live to record it from now until it ends",
        ),
        ({"record": False, "recording": None}, 200, NotRecorded, "was not recorded"),
        ({"recording": None}, 200, RecordingDeleted, "was deleted"),
        ({"recording": {"state": "expired"}}, 200, RecordingExpired, "replay window"),
        ({}, 401, SpacePrivate, "private"),
        ({}, 404, SpaceNotFound, "was not found"),
        ({"state": "scheduled"}, 200, NotRecorded, "has not taken place"),
    ],
)
def test_airspace_link_errors(
    server: FakeServer,
    tmp_path: Path,
    overrides: dict[str, object],
    status: int,
    error: type[DownloadError],
    message: str,
) -> None:
    server.json(f"/api/v1/spaces/{SPACE_ID}", airspace_space(server, **overrides), status=status)
    with pytest.raises(error, match=message):
        download(f"{server.url}/i/spaces/{SPACE_ID}", str(tmp_path / "x.%(ext)s"), **FAST)


def test_every_error_has_its_own_exit_code() -> None:
    from airspace.downloader import errors

    classes = [
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, DownloadError)
    ]
    codes = [c.exit_code for c in classes if c is not DownloadError]
    assert len(codes) == len(set(codes))
    assert all(code in errors.EXIT_CODES for code in codes)


def test_unsupported_links(tmp_path: Path, server: FakeServer) -> None:
    with pytest.raises(UnsupportedURL):
        download("ftp://example.org/x.m3u8", str(tmp_path / "x.%(ext)s"))
    server.static("/page.html", "<html>not a playlist</html>", "text/html")
    with pytest.raises(UnsupportedURL):
        download(f"{server.url}/page.html", str(tmp_path / "x.%(ext)s"))


@pytest.mark.slow  # a live Space or a growing playlist, seconds of real time
def test_airspace_live_then_replay_joined_by_sequence(server: FakeServer, tmp_path: Path) -> None:
    recording = make_recording(21.0, "ts", seed=12)
    server.serve_recording(recording)
    total = len(recording.groups)
    live_state = {"polls": 0, "ended": False}

    def space(_request: Request) -> Reply:
        if live_state["ended"]:
            body = airspace_space(
                server,
                recording={
                    "state": "available",
                    "start_offset_seconds": 0.0,
                    "playlist_url": f"{server.url}/hls/index.m3u8",
                },
            )
        else:
            body = airspace_space(
                server,
                state="live",
                live_playlist_url=f"{server.url}/hls/live.m3u8",
                recording={"state": "recording"},
            )
        return Reply(200, json.dumps(body).encode(), "application/json")

    def live(_request: Request) -> Reply:
        live_state["polls"] += 1
        last = min(total, 5 + live_state["polls"])
        ended = last == total
        live_state["ended"] = ended
        text = recording.playlist(first=max(0, last - 3), last=last, ended=ended)
        return Reply(200, text.encode(), "application/vnd.apple.mpegurl")

    server.routes[f"/api/v1/spaces/{SPACE_ID}"] = space
    server.routes["/hls/live.m3u8"] = live
    result = download(
        f"{server.url}/i/spaces/{SPACE_ID}", str(tmp_path / "live.%(ext)s"), live=True, **FAST
    )
    assert result.complete, result.warnings
    expected, _ = decode(b"".join(recording.frames), format="aac")
    assert result.duration == len(expected) / SAMPLE_RATE  # no gap, nothing twice
    decoded, _ = decode(result.path)
    lag, correlation = best_lag(expected, decoded)
    assert (lag, correlation > 0.95) == (0, True)
    # The earlier part came from the replay, the rest from the live edge: each once.
    assert server.hits["/hls/seg0.ts"] == 1
    assert all(server.hits[f"/hls/seg{i}.ts"] == 1 for i in range(total))


def test_x_master_playlist_location() -> None:
    base = "https://prod.example/Transcoding/v1/hls/abc/non_transcode/r/b/audio-space/"
    assert (
        master_playlist_url(base + "playlist_1698.m3u8?type=replay")
        == base + "master_playlist.m3u8"
    )
    assert (
        master_playlist_url(base + "dynamic_playlist.m3u8?type=live")
        == base + "master_playlist.m3u8"
    )


def fake_x(
    server: FakeServer, state: str = "Ended", replay: bool = True, found: bool = True
) -> FakeServer:
    """The X endpoints a web client uses, answering in their documented shapes."""
    recording = make_recording(9.0, "packed", seed=13)
    prefix = "/Transcoding/v1/hls/abc/transcode/r/b/jwt/audio-space/"
    for index, segment in enumerate(recording.segments):
        server.static(f"{prefix}chunk_1720192654637762497_{index}_a.aac", segment)
    playlist = recording.playlist(prefix="chunk_1720192654637762497_").replace(".aac", "_a.aac")
    server.static(f"{prefix}playlist_1698.m3u8", playlist)
    server.static(
        "/Transcoding/v1/hls/abc/non_transcode/r/b/audio-space/master_playlist.m3u8",
        f'#EXTM3U\n#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=70000,CODECS="mp4a.40.2"\n{prefix}playlist_1698.m3u8\n',
    )
    server.static("/pic_400x400.jpg", b"\xff\xd8\xff jpeg", "image/jpeg")
    server.json("/1.1/guest/activate.json", {"guest_token": "1723456789"})
    metadata = {
        "rest_id": SPACE_ID,
        "state": state,
        "title": "X talk",
        "media_key": "28_1689453492111626240",
        "created_at": 1691632075690,
        "started_at": 1691632076793,
        "ended_at": "1691634896694",
        "is_space_available_for_replay": replay,
        "creator_results": {
            "result": {
                "legacy": {
                    "name": "Grace Hopper",
                    "screen_name": "grace",
                    "profile_image_url_https": f"{server.url}/pic_normal.jpg",
                }
            }
        },
    }
    seen: dict[str, object] = {}

    def graphql(request: Request) -> Reply:
        query = parse_qs(request.query)
        seen["variables"] = json.loads(query["variables"][0])
        seen["headers"] = {k.lower(): v for k, v in request.headers.items()}
        participants = {
            "admins": [{"display_name": "Grace Hopper", "twitter_screen_name": "grace"}],
            "speakers": [{"display_name": "Alan Turing", "twitter_screen_name": "alan"}],
            "listeners": [{"display_name": "Someone", "twitter_screen_name": "someone"}],
        }
        space = {"metadata": metadata, "participants": participants}
        body = {"data": {"audioSpace": space if found else {}}}
        return Reply(200, json.dumps(body).encode(), "application/json")

    server.routes["/graphql/HPEisOmj1epUNLCWTYhUWw/AudioSpaceById"] = graphql
    replay_dir = "/Transcoding/v1/hls/abc/non_transcode/r/b/audio-space/"
    location = f"{server.url}{replay_dir}playlist_1698.m3u8?type=replay"
    server.json(
        "/1.1/live_video_stream/status/28_1689453492111626240",
        {"source": {"location": location, "status": "LIVE_REPLAY", "streamType": "HLS"}},
    )
    server.seen = seen  # type: ignore[attr-defined]
    server.recording = recording  # type: ignore[attr-defined]
    return server


TWEET_ID = "1689453492111626240"


def tweet_with(card: dict[str, object] | None, urls: list[str] | None = None) -> dict[str, object]:
    """``TweetResultByRestId``'s answer for a tweet with ``card`` and links ``urls``."""
    tweet: dict[str, object] = {
        "__typename": "Tweet",
        "rest_id": TWEET_ID,
        "legacy": {
            "full_text": "Join us",
            "entities": {"urls": [{"expanded_url": url} for url in urls or []]},
        },
    }
    if card is not None:
        tweet["card"] = {"legacy": card}
    return {"data": {"tweetResult": {"result": tweet}}}


def fake_tweet(server: FakeServer, answer: dict[str, object]) -> None:
    def graphql(request: Request) -> Reply:
        variables = json.loads(parse_qs(request.query)["variables"][0])
        assert variables["tweetId"] == TWEET_ID
        return Reply(200, json.dumps(answer).encode(), "application/json")

    server.routes["/graphql/2ICDjqPd81tulZcYrtpTuQ/TweetResultByRestId"] = graphql


SPACE_CARD = {
    "name": "3691233323:audiospace",
    "binding_values": [
        {"key": "card_url", "value": {"string_value": "https://t.co/abc"}},
        {"key": "id", "value": {"string_value": SPACE_ID}},
    ],
}


@pytest.mark.parametrize(
    ("link", "answer"),
    [
        (f"https://x.com/grace/status/{TWEET_ID}?s=20&t=abc", tweet_with(SPACE_CARD)),
        (
            f"https://mobile.twitter.com/grace/status/{TWEET_ID}/photo/1",
            tweet_with(None, [f"https://twitter.com/i/spaces/{SPACE_ID}?s=20"]),
        ),
        (f"https://vxtwitter.com/grace/status/{TWEET_ID}", tweet_with(SPACE_CARD)),
        (f"https://fxtwitter.com/grace/status/{TWEET_ID}?s=46", tweet_with(SPACE_CARD)),
        (f"https://fixupx.com/grace/status/{TWEET_ID}", tweet_with(SPACE_CARD)),
        (
            f"https://x.com/i/web/status/{TWEET_ID}",
            {
                "data": {
                    "tweetResult": {
                        "result": {"tweet": tweet_with(SPACE_CARD)["data"]["tweetResult"]["result"]}
                    }
                }
            },  # type: ignore[index]
        ),
    ],
)
def test_a_tweet_link_downloads_the_space_it_carries(
    server: FakeServer, tmp_path: Path, link: str, answer: dict[str, object]
) -> None:
    fake_x(server)
    fake_tweet(server, answer)
    result = download(
        link, str(tmp_path / "%(host)s - %(title)s.%(ext)s"), x=XConfig(api_url=server.url), **FAST
    )
    assert result.path.name == "Grace Hopper - X talk.mp3"
    assert server.seen["variables"]["id"] == SPACE_ID  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (tweet_with({"name": "summary_large_image", "binding_values": []}), NoSpaceInTweet),
        (tweet_with(None, ["https://example.com/article"]), NoSpaceInTweet),
        ({"data": {"tweetResult": {"result": {"__typename": "TweetUnavailable"}}}}, SpaceNotFound),
        ({"data": {"tweetResult": {}}}, SpaceNotFound),
    ],
)
def test_a_tweet_without_a_space_is_its_own_error(
    server: FakeServer, tmp_path: Path, answer: dict[str, object], error: type[DownloadError]
) -> None:
    fake_x(server)
    fake_tweet(server, answer)
    with pytest.raises(error):
        download(
            f"https://x.com/grace/status/{TWEET_ID}",
            str(tmp_path / "t.%(ext)s"),
            x=XConfig(api_url=server.url),
            **FAST,
        )


def test_x_space_with_a_guest_token(server: FakeServer, tmp_path: Path) -> None:
    fake_x(server)
    result = download(
        f"https://x.com/i/spaces/{SPACE_ID}",
        str(tmp_path / "%(host)s - %(title)s.%(ext)s"),
        x=XConfig(api_url=server.url),
        **FAST,
    )
    assert result.path.name == "Grace Hopper - X talk.mp3"
    seen = server.seen  # type: ignore[attr-defined]
    assert seen["variables"]["id"] == SPACE_ID
    assert seen["headers"]["x-guest-token"] == "1723456789"
    assert seen["headers"]["authorization"].startswith("Bearer AAAA")
    expected, _ = decode(b"".join(server.recording.frames), format="aac")  # type: ignore[attr-defined]
    assert result.duration == len(expected) / SAMPLE_RATE
    tags = mutagen.id3.ID3(result.path)
    assert str(tags["TDRC"]) == "2023-08-10"
    assert tags.getall("APIC")[0].data.startswith(b"\xff\xd8")
    # Who was on stage: the hosts and speakers, not the listeners.
    assert tags["TMCL"].people == [
        ["host", "Grace Hopper (@grace)"],
        ["speaker", "Alan Turing (@alan)"],
    ]


def test_x_space_with_a_cookies_file(server: FakeServer, tmp_path: Path) -> None:
    fake_x(server)
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n"
        ".x.com\tTRUE\t/\tTRUE\t0\tauth_token\t" + "a" * 40 + "\n"
        "#HttpOnly_.x.com\tTRUE\t/\tTRUE\t0\tct0\t" + "b" * 160 + "\n"
    )
    download(
        f"https://twitter.com/i/spaces/{SPACE_ID}",
        str(tmp_path / "c.%(ext)s"),
        x=XConfig(api_url=server.url),
        cookies_file=str(cookies),
        format="m4a",
        **FAST,
    )
    headers = server.seen["headers"]  # type: ignore[attr-defined]
    assert headers["x-csrf-token"] == "b" * 160
    assert "x-guest-token" not in headers
    assert "auth_token=" + "a" * 40 in headers["cookie"]
    assert server.hits["/1.1/guest/activate.json"] == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"state": "Running"}, SpaceIsLive),
        ({"replay": False}, NotRecorded),
        ({"found": False}, SpaceNotFound),
        ({"state": "NotStarted"}, NotRecorded),
    ],
)
def test_x_space_errors(
    server: FakeServer, tmp_path: Path, kwargs: dict[str, object], error: type[DownloadError]
) -> None:
    fake_x(server, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(error):
        download(
            f"https://x.com/i/spaces/{SPACE_ID}",
            str(tmp_path / "e.%(ext)s"),
            x=XConfig(api_url=server.url),
            **FAST,
        )


REPLAY_MASTER = "/Transcoding/v1/hls/abc/non_transcode/r/b/audio-space/master_playlist.m3u8"


def published_after(server: FakeServer, seconds: float) -> list[float]:
    """The replay's master playlist answers 404 for ``seconds``, as X's does just after a
    Space ends; the times it was asked for."""
    published = server.routes[REPLAY_MASTER]
    asked: list[float] = []
    start = time.monotonic()

    def replay(request: Request) -> Reply:
        asked.append(time.monotonic() - start)
        if asked[-1] < seconds:
            return Reply(404, b"not found", "text/plain")
        return published(request)

    server.routes[REPLAY_MASTER] = replay
    return asked


@pytest.mark.slow
def test_a_replay_not_published_yet_is_waited_for(server: FakeServer, tmp_path: Path) -> None:
    fake_x(server)
    asked = published_after(server, 20.0)
    stages: list[str] = []
    result = download(
        f"https://x.com/i/spaces/{SPACE_ID}",
        str(tmp_path / "w.%(ext)s"),
        x=XConfig(api_url=server.url),
        replay_wait=60.0,
        progress=lambda state: stages.append(state.waiting_for or state.stage),
        **FAST,
    )
    assert result.path.exists()
    assert asked[-1] >= 20.0
    assert 4 <= len(asked) <= 8  # pauses that grow, not a request a second
    assert any("answered HTTP 404; the replay may not be published yet" in s for s in stages)


def test_waiting_for_a_replay_gives_up_with_the_reason(server: FakeServer, tmp_path: Path) -> None:
    fake_x(server)
    published_after(server, 3600.0)
    with pytest.raises(PlaylistMissing, match="answered HTTP 404"):
        download(
            f"https://x.com/i/spaces/{SPACE_ID}",
            str(tmp_path / "g.%(ext)s"),
            x=XConfig(api_url=server.url),
            replay_wait=2.0,
            **FAST,
        )
    missing = f"{server.url}/hls/nowhere.m3u8"  # a plain HLS link is not waited for
    started = time.monotonic()
    with pytest.raises(PlaylistMissing):
        download(missing, str(tmp_path / "h.%(ext)s"), replay_wait=60.0, **FAST)
    assert time.monotonic() - started < 5
