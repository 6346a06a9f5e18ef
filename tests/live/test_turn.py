"""A speaker who can reach the server only through a TURN relay (coturn, on loopback):
the room hands out short-lived TURN credentials, the speaker's media flows through the
relay, and the program carries their voice."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from aiortc import RTCIceServer

from airspace.config import Settings
from airspace.media.ice import IceSettings, browser_ice_servers
from airspace.media.peer import SpeakerPeer, tone
from tests.audio import band_share
from tests.conftest import LiveServer, make_settings
from tests.e2e.processes import free_port
from tests.live.test_speakers import connect_microphone, program_audio

TURNSERVER = shutil.which("turnserver")
SECRET = "a-turn-secret-shared-with-coturn"
pytestmark = pytest.mark.skipif(TURNSERVER is None, reason="coturn is not installed")


def test_rest_credentials_are_the_expiry_and_an_hmac_coturn_checks() -> None:
    ice = IceSettings(urls=("stun:stun.test:3478", "turn:turn.test:3478"), turn_secret=SECRET)
    servers, expires = browser_ice_servers(ice, "hana", 1_000_000.0)
    assert servers[0] == {"urls": ["stun:stun.test:3478"]}
    assert expires == 1_000_000 + 3600
    assert servers[1]["username"] == "1003600:hana"
    expected = hmac.new(SECRET.encode(), b"1003600:hana", hashlib.sha1).digest()
    assert base64.b64decode(servers[1]["credential"]) == expected
    fixed = IceSettings(urls=("turn:turn.test",), turn_username="u", turn_password="p")
    assert browser_ice_servers(fixed, "hana", 0.0) == (
        [{"urls": ["turn:turn.test"], "username": "u", "credential": "p"}],
        None,
    )


class Coturn:
    def __init__(self, port: int, log: Path) -> None:
        self.url = f"turn:127.0.0.1:{port}"
        self.log = log


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    port = free_port()
    log = tmp_path / "turnserver.log"
    assert TURNSERVER is not None
    process = subprocess.Popen(
        [
            TURNSERVER,
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            "--min-port=49160",
            "--max-port=49200",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=airspace.test",
            "--allow-loopback-peers",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--fingerprint",
            f"--log-file={log}",
            "--simple-log",
            "--verbose",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    try:
        yield Coturn(port, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, coturn: Coturn) -> Settings:
    return make_settings(tmp_path, database_url, ice=IceSettings((coturn.url,), SECRET))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_speaker_reaches_the_room_only_through_the_relay(
    live_server: LiveServer, coturn: Coturn
) -> None:
    host = live_server.register("hana")
    space_id = live_server.create_space(host, record=True)

    async def speak() -> np.ndarray:
        async with httpx.AsyncClient(
            base_url=live_server.base, headers=host, timeout=20, follow_redirects=True
        ) as http:
            (await http.post(f"/api/v1/spaces/{space_id}/start")).raise_for_status()
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            answer = (await http.get(f"/api/v1/spaces/{space_id}/room/ice-servers")).json()
            assert answer["expires_at"] is not None
            [turn] = answer["ice_servers"]
            assert turn["urls"] == [coturn.url]
            assert turn["username"].endswith(":hana")
            servers = [RTCIceServer(turn["urls"][0], turn["username"], turn["credential"])]
            peer = SpeakerPeer(tone(440), ice_servers=servers, relay_only=True)
            offer = await peer.offer()
            assert " typ relay" in offer
            assert " typ host" not in offer  # nothing but the relay to reach this speaker at
            await connect_microphone(http, space_id, peer, offer)
            await asyncio.sleep(5)
            heard = await program_audio(http, space_id)
            await peer.close()
            await http.post(f"/api/v1/spaces/{space_id}/end")
            return heard

    heard = asyncio.run(speak())
    assert band_share(heard, 440) > 0.5
    relayed = coturn.log.read_text()
    assert "ALLOCATE processed, success" in relayed
    assert (
        "CHANNEL_BIND processed, success" in relayed
        or "CREATE_PERMISSION processed, success" in relayed
    )
