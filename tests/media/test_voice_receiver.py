"""Receiving voice with real aiortc peers: decoded on arrival, garbage packets dropped
without stopping the stream, and nothing left running after the connection closes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from airspace.media.peer import SourceTrack, tone
from airspace.media.voice_receiver import receive_voice
from tests.audio import band_share


class SometimesGarbage(SourceTrack):
    """A 660 Hz microphone whose every fifth packet is replaced by bytes that are not Opus."""

    async def recv(self) -> av.Packet[Any]:
        packet = await super().recv()
        if self.number % 5 == 0:
            garbage = av.Packet(b"\xff\xff\x00\x00\x00")
            garbage.pts, garbage.time_base = packet.pts, packet.time_base
            return garbage
        return packet


def decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith("-decoder") and t.is_alive()]


def test_voice_is_decoded_on_arrival_and_garbage_costs_only_its_packet() -> None:
    async def scenario() -> None:
        before = len(decoder_threads())
        sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        sender.addTrack(SometimesGarbage(tone(660)))
        heard: list[np.ndarray] = []
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        receive_voice(receiver, 2, heard.append)
        await receiver.setLocalDescription(await receiver.createAnswer())
        answer = receiver.localDescription
        await sender.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))
        await asyncio.sleep(2.0)

        (transceiver,) = receiver.getTransceivers()
        decoding = transceiver.receiver._RTCRtpReceiver__decoder_queue
        assert decoding.corrupt >= 10  # one in five of about 100 packets
        assert all(len(block) == 960 for block in heard)
        assert len(heard) > 50
        assert band_share(np.concatenate(heard[-40:]), 660) > 0.8
        await sender.close()
        await receiver.close()
        assert len(decoder_threads()) == before

    asyncio.run(scenario())


def test_it_must_come_before_the_connection_starts() -> None:
    async def scenario() -> None:
        pc = RTCPeerConnection()
        pc.addTransceiver("audio")
        (transceiver,) = pc.getTransceivers()
        transceiver.receiver._RTCRtpReceiver__decoder_thread = threading.Thread()
        with pytest.raises(RuntimeError, match="after the receiver started"):
            receive_voice(pc, 2, lambda samples: None)
        transceiver.receiver._RTCRtpReceiver__decoder_thread = None
        await pc.close()

    asyncio.run(scenario())
