"""Grants: what they open, and every way a bad one is refused — by the fast path, by the
app's routes and by nginx's check — with one JSON line and the right status."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from airspace.delivery.generations import LocalMediaGenerations
from airspace.delivery.grants import (
    Audience,
    Grant,
    GrantRefused,
    GrantRevoked,
    MediaGrants,
    Scope,
)
from airspace.delivery.policy import SHARED_CACHE_SECONDS, cache_control
from airspace.wiring import Services

ON_LOCAL_STORAGE = pytest.mark.parametrize("settings", ["local"], indirect=True)
ON_S3 = pytest.mark.parametrize("settings", ["s3"], indirect=True)
SPACE = "AAAAAAAAAAAAA"
OTHER = "BBBBBBBBBBBBB"


def grant(
    scope: Scope = Scope.REPLAY,
    audience: Audience = Audience.PUBLIC,
    seconds: int = 600,
    generation: int = 0,
    space_id: str = SPACE,
    now: float | None = None,
) -> Grant:
    expires = int(time.time() if now is None else now) + seconds
    return Grant(space_id, scope, audience, expires, generation)


def test_a_grant_opens_what_its_scope_names_and_nothing_else() -> None:
    live = grant(Scope.LIVE)
    assert live.allows("live.m3u8")
    assert live.allows("live/000042.ts")
    assert not live.allows("recording.ts")
    assert not live.allows("renditions/replay-0ms.m4a")
    assert not live.allows("live/../../secret_key")
    replay = grant(Scope.REPLAY)
    for name in (
        "replay.m3u8",
        "captions.vtt",
        "recording.ts",
        "renditions/replay-1500ms.mp3",
        "renditions/replay-1500ms.wav",
        "clips/AAAAAAAAAAAAA/clip.mp3",
        "clips/AAAAAAAAAAAAA/audiogram-square.mp4",
    ):
        assert replay.allows(name)
    assert not replay.allows("renditions/replay-1500ms.exe")
    assert not replay.allows("clips/AAAAAAAAAAAAA/other.mp4")
    assert not replay.allows("archive/airspace-data.zip")  # an archive has its own grants
    assert grant(Scope.ARCHIVE).allows("archive/airspace-data.zip")
    assert not grant(Scope.ARCHIVE).allows("replay.m3u8")
    assert not replay.allows("secret_key")


def test_checking_refuses_forgery_expiry_other_paths_and_revoked_generations() -> None:
    grants = MediaGrants("instance secret")
    now = time.time()
    token = grants.token(grant())
    assert grants.check(SPACE, token, "replay.m3u8", now, 0) == grants.parse(SPACE, token)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, "replay.public.9999999999.0.x", "nonsense", ""):
        with pytest.raises(GrantRefused):
            grants.check(SPACE, bad, "replay.m3u8", now, 0)
    with pytest.raises(GrantRefused):  # a grant for one Space opens no other
        grants.check(OTHER, token, "replay.m3u8", now, 0)
    with pytest.raises(GrantRefused):  # a grant made with another secret
        MediaGrants("another secret").check(SPACE, token, "replay.m3u8", now, 0)
    with pytest.raises(GrantRefused, match="expired"):
        grants.check(SPACE, token, "replay.m3u8", now + 601, 0)
    with pytest.raises(GrantRefused, match="does not open"):
        grants.check(SPACE, grants.token(grant(Scope.LIVE)), "recording.ts", now, 0)
    with pytest.raises(GrantRevoked):
        grants.check(SPACE, token, "replay.m3u8", now, 1)


def test_caches_may_keep_public_bytes_briefly_and_private_ones_not_at_all() -> None:
    now = time.time()
    public = cache_control(grant(seconds=3600), now)
    assert public.startswith("public, max-age=")
    assert f"s-maxage={SHARED_CACHE_SECONDS}" in public
    assert cache_control(grant(seconds=60), now).startswith("public, max-age=")
    assert "s-maxage=" in cache_control(grant(seconds=60), now)
    private = cache_control(grant(audience=Audience.PRIVATE), now)
    assert private.startswith("private, ")


def test_generations_only_grow_and_travel_through_the_announcement() -> None:
    generations = LocalMediaGenerations()
    assert generations.current(SPACE) == 0
    generations.announce(SPACE, 2)
    generations.observe(SPACE, 1)
    generations.load({SPACE: 1, OTHER: 3})
    assert (generations.current(SPACE), generations.current(OTHER)) == (2, 3)


def url(services: Services, name: str, **fields: object) -> str:
    """A granted path, on the services' clock."""
    now = services.clock.now().timestamp()
    return services.grants.path(grant(now=now, **fields), name)  # type: ignore[arg-type]


@ON_LOCAL_STORAGE
def test_the_fast_path_serves_stored_segments_with_validators(
    client: TestClient, services: Services
) -> None:
    services.storage.put(f"spaces/{SPACE}/live/000001.ts", b"\x47" * 376)
    path = url(services, "live/000001.ts")
    first = client.get(path)
    assert first.status_code == 200
    assert first.content == b"\x47" * 376
    assert first.headers["content-type"] == "video/mp2t"
    assert first.headers["cache-control"].endswith("immutable")
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    private = client.get(url(services, "live/000001.ts", audience=Audience.PRIVATE))
    assert private.headers["cache-control"].startswith("private, ")
    assert client.get(url(services, "live/000002.ts")).status_code == 404


@ON_LOCAL_STORAGE
def test_the_fast_path_serves_renditions_with_ranges(
    client: TestClient, services: Services
) -> None:
    services.storage.put(f"spaces/{SPACE}/renditions/replay-0ms.m4a", bytes(range(200)))
    path = url(services, "renditions/replay-0ms.m4a")
    whole = client.get(path)
    assert whole.content == bytes(range(200))
    assert whole.headers["content-type"] == "audio/mp4"
    part = client.get(path, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == bytes(range(10, 20))


@ON_LOCAL_STORAGE
@pytest.mark.parametrize(
    ("fields", "name", "status", "detail"),
    [
        ({"seconds": -1}, "live/000001.ts", 403, "expired"),
        ({"scope": Scope.LIVE}, "recording.ts", 403, "does not open"),
        ({}, "secret_key", 403, "does not open"),
        ({"space_id": OTHER}, "live/000001.ts", 403, "not valid"),
    ],
)
def test_bad_grants_get_one_json_line(
    client: TestClient,
    services: Services,
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, object],
    name: str,
    status: int,
    detail: str,
) -> None:
    path = url(services, name, **fields)
    if fields.get("space_id") == OTHER:  # a real grant, presented for another Space
        path = path.replace(OTHER, SPACE, 1)
    with caplog.at_level(logging.INFO):
        response = client.get(path)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert response.headers["cache-control"] == "no-store"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@ON_LOCAL_STORAGE
def test_a_revoked_grant_is_gone_on_every_door(client: TestClient, services: Services) -> None:
    services.storage.put(f"spaces/{SPACE}/live/000001.ts", b"\x47" * 188)
    segment = url(services, "live/000001.ts")
    playlist = url(services, "replay.m3u8")
    assert client.get(segment).status_code == 200
    services.generations.announce(SPACE, 1)
    for path in (segment, playlist):  # the fast path, and an app route behind it
        response = client.get(path)
        assert response.status_code == 410
        assert response.json() == {"detail": "this recording is no longer available"}
    check = client.get("/_airspace/grant", headers={"X-Original-URI": segment})
    assert check.status_code == 403  # nginx's auth_request knows no 410
    assert check.json() == {"detail": "this recording is no longer available"}


@ON_LOCAL_STORAGE
def test_nginx_check_answers_with_the_cache_policy(client: TestClient, services: Services) -> None:
    segment = url(services, "live/000001.ts")
    check = client.get("/_airspace/grant", headers={"X-Original-URI": segment})
    assert check.status_code == 204
    assert check.headers["x-cache-control"].startswith("public, max-age=")
    # Only stored files are nginx's to send; playlists stay with the app.
    refused = client.get(
        "/_airspace/grant", headers={"X-Original-URI": url(services, "replay.m3u8")}
    )
    assert refused.status_code == 403


@ON_S3
def test_on_s3_the_fast_path_hands_out_a_short_presigned_url(
    client: TestClient, services: Services
) -> None:
    services.storage.put(f"spaces/{SPACE}/live/000001.ts", b"\x47" * 188)
    reply = client.get(url(services, "live/000001.ts"), follow_redirects=False)
    assert reply.status_code == 302
    assert reply.headers["cache-control"] == "no-store"
    presigned = reply.headers["location"]
    assert "Signature=" in presigned
    assert httpx.get(presigned).content == b"\x47" * 188
    assert httpx.get(presigned.split("?", 1)[0]).status_code == 403  # the bucket is private
