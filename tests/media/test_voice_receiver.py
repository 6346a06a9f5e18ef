"""Receiving voice with real aiortc peers: decoded on arrival, garbage packets dropped
without stopping the stream, and nothing left running after the connection closes;
frames that are empty, not Opus, or that the callback fails on cost only themselves."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpCodecParameters, RTCSessionDescription
from aiortc.jitterbuffer import JitterFrame

from airspace.media.libopus import OpusEncoder
from airspace.media.peer import SourceTrack, tone
from airspace.media.voice_receiver import VoiceReceiver, receive_voice
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
        assert decoding.dropped >= 10  # one in five of about 100 packets
        assert all(len(block) == 960 for block in heard)
        assert len(heard) > 50
        assert band_share(np.concatenate(heard[-40:]), 660) > 0.8
        # aiortc's decoder thread waits in get() until the receiver stops: closing must
        # release it, or close() would wait for it forever.
        await asyncio.wait_for(sender.close(), 10)
        await asyncio.wait_for(receiver.close(), 10)
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


OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
PCMU = RTCRtpCodecParameters(mimeType="audio/PCMU", clockRate=8000, channels=1, payloadType=0)


def test_frames_that_cannot_be_heard_cost_only_themselves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[np.ndarray] = []

    def on_audio(samples: np.ndarray) -> None:
        if len(heard) == 1:
            heard.append(samples)
            raise RuntimeError("a bug in the room")
        heard.append(samples)

    decoding = VoiceReceiver(on_audio)
    voice = OpusEncoder(48_000, 32_000).encode(np.zeros(960, dtype=np.float32))
    decoding.put((OPUS, JitterFrame(voice, 0)))
    decoding.put((OPUS, JitterFrame(b"", 960)))  # libopus would conceal 120 ms for it
    decoding.put((PCMU, JitterFrame(b"\xff" * 160, 1920)))  # not Opus: never decoded as Opus
    decoding.put((OPUS, JitterFrame(voice, 2880)))  # the callback raises: logged, not raised
    decoding.put((OPUS, JitterFrame(voice, 3840)))
    assert [len(samples) for samples in heard] == [960, 960, 960]
    assert decoding.dropped == 2
    assert "the audio callback failed" in caplog.text


def test_one_audio_transceiver_is_expected() -> None:
    async def scenario() -> None:
        pc = RTCPeerConnection()
        with pytest.raises(ValueError, match="found 0"):
            receive_voice(pc, 2, lambda samples: None)
        pc.addTransceiver("audio")
        pc.addTransceiver("audio")
        with pytest.raises(ValueError, match="found 2"):
            receive_voice(pc, 2, lambda samples: None)
        await pc.close()

    asyncio.run(scenario())


def test_a_lost_frame_is_recovered_from_the_next_packets_fec() -> None:
    from airspace.media.voice_jitter import VoiceFrame
    from tests.audio import speech

    voice = speech("The garden show starts at seven tonight.")
    frames = [voice[i : i + 960] for i in range(0, len(voice) - 960, 960)]
    encoder = OpusEncoder(48_000, 48_000)
    encoder.set_loss_protection(10)
    packets = [encoder.encode(f) for f in frames]
    middle = next(i for i in range(len(frames) // 2, len(frames)) if np.abs(frames[i]).max() > 0.1)

    def heard_without(lost: set[int], repair: bool) -> np.ndarray:
        heard: list[np.ndarray] = []
        receiver = VoiceReceiver(heard.append, repair)
        gap = 0
        for number, payload in enumerate(packets):
            if number in lost:
                gap += 1
                continue
            receiver.put((OPUS, VoiceFrame(payload, number * 960, gap)))
            gap = 0
        assert receiver.recovered == (len(lost) if repair else 0)
        return np.concatenate(heard)

    reference: list[np.ndarray] = []
    plain = VoiceReceiver(reference.append)
    for number, payload in enumerate(packets):
        plain.put((OPUS, VoiceFrame(payload, number * 960)))
    clean = np.concatenate(reference)
    repaired = heard_without({middle}, True)
    assert len(repaired) == len(clean)  # nothing missing from the timeline
    unrepaired = heard_without({middle}, False)
    assert len(unrepaired) == len(clean) - 960  # the gap: the voice came 20 ms short
    span = slice(middle * 960, (middle + 1) * 960)
    error = np.sqrt(np.mean((repaired[span] - clean[span]) ** 2))
    assert error < 0.5 * np.sqrt(np.mean(clean[span] ** 2))  # close to what was said
