"""RED for Opus (RFC 2198): packets carry the one before them and unpack to the same
bytes; what does not fit (too old, too big, nothing before) goes without; a malformed
payload is refused; SDP helpers find, write and take out RED; and between two real
peers a lost packet comes back whole from the next."""

from __future__ import annotations

import asyncio
import contextlib
import random

import numpy as np
import pytest
from aiortc.rtp import RtpPacket

from airspace.media.aiortc_engine import AiortcMediaEngine
from airspace.media.opus_red import (
    MAX_BLOCK_BYTES,
    MalformedRed,
    RedBlock,
    RedFormat,
    RedPacker,
    red_format,
    red_packer_for,
    split_red,
    with_red_parameters,
    without_red,
)
from airspace.media.peer import SpeakerPeer, tone
from airspace.media.voice_jitter import VoiceFrame, VoiceJitterBuffer
from tests.media.test_aiortc_engine import Collected

RED, OPUS = 63, 111


def test_each_packet_carries_the_one_before_it() -> None:
    packer = RedPacker(OPUS)
    first = split_red(packer.pack(b"one", 0))
    assert (first.primary, first.redundant) == (b"one", ())
    second = split_red(packer.pack(b"two", 960))
    assert second.primary == b"two"
    assert second.redundant == (RedBlock(b"one", 960, OPUS),)
    # After a DTX pause the last packet sent is still carried, 10 frames back.
    third = split_red(packer.pack(b"three", 960 * 11))
    assert third.redundant == (RedBlock(b"two", 960 * 10, OPUS),)


def test_what_does_not_fit_goes_without() -> None:
    packer = RedPacker(OPUS)
    packer.pack(b"old", 0)
    assert split_red(packer.pack(b"later", 1 << 14)).redundant == ()  # over 14 bits
    packer.pack(b"x" * (MAX_BLOCK_BYTES + 1), 2 << 14)
    assert split_red(packer.pack(b"next", (2 << 14) + 960)).redundant == ()  # over 10 bits
    # Timestamps wrap around 32 bits.
    packer.pack(b"wrap", (1 << 32) - 960)
    assert split_red(packer.pack(b"after", 0)).redundant == (RedBlock(b"wrap", 960, OPUS),)


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x80\x00", bytes([0x80 | OPUS, 0, 3 << 2 | 0, 200, OPUS]) + b"short"],
)
def test_a_malformed_payload_is_refused(payload: bytes) -> None:
    with pytest.raises(MalformedRed):
        split_red(payload)


def red_packet(sequence: int, payload: bytes) -> RtpPacket:
    out = RtpPacket(payload_type=RED, sequence_number=sequence, timestamp=sequence * 960)
    out._data = payload  # type: ignore[attr-defined]
    return out


def test_the_jitter_buffer_takes_a_lost_packet_from_the_next_one_in_its_turn() -> None:
    packer = RedPacker(OPUS)
    payloads = {n: packer.pack(f"frame {n}".encode(), n * 960) for n in range(10, 21)}
    buffer = VoiceJitterBuffer(2, RedFormat(RED, OPUS))
    out: dict[int, list[tuple[int, int]]] = {}
    for n in (10, 11, 13, 14, 15, 18, 19, 20):  # 12 lost; 16 and 17 both lost
        _, frame = buffer.add(red_packet(n, payloads[n]))
        released = out.setdefault(n, [])
        while frame is not None:  # as VoiceReceiver takes them
            assert isinstance(frame, VoiceFrame)
            assert frame.data == f"frame {frame.timestamp // 960}".encode()
            released.append((frame.timestamp // 960, frame.lost_before))
            frame = buffer.give_up() if buffer.overfull() else None
    # Each frame comes out when the packet two after it arrives (or would have): 12 is
    # restored whole from 13's copy when 14 arrives; 16 is lost (FEC in 17 recovers it)
    # and 17 restored from 18's copy when 19 arrives.
    assert out == {
        10: [],
        11: [],
        13: [(10, 0), (11, 0)],
        14: [(12, 0)],
        15: [(13, 0)],
        18: [(14, 0), (15, 0)],
        19: [(17, 1)],
        20: [(18, 0)],
    }
    assert (buffer.restored, buffer.lost) == (2, 1)
    assert not buffer.overfull()
    # A packet whose RED does not parse costs that packet only.
    assert buffer.add(red_packet(21, b"\x80")) == (False, None)
    assert buffer.malformed == 1


def red_block(payload_type: int, offset: int, data: bytes) -> bytes:
    word = (offset << 10) | len(data)
    return bytes([0x80 | payload_type]) + word.to_bytes(3, "big")


def test_the_jitter_buffer_takes_only_opus_from_red() -> None:
    """RFC 2198 lets a block be of another codec; only Opus is voice here."""
    buffer = VoiceJitterBuffer(1, RedFormat(RED, OPUS))
    comfort_noise = 13
    buffer.add(red_packet(1, bytes([OPUS]) + b"one"))
    # 2 is lost; 3 carries a copy of it, but in another codec: not taken.
    three = red_block(comfort_noise, 960, b"cn") + bytes([OPUS]) + b"cn" + b"three"
    _, frame = buffer.add(red_packet(3, three))
    assert isinstance(frame, VoiceFrame)
    assert frame.data == b"one"
    _, frame = buffer.add(red_packet(4, bytes([OPUS]) + b"four"))
    assert isinstance(frame, VoiceFrame)
    assert (frame.data, frame.lost_before) == (b"three", 1)
    assert buffer.restored == 0
    # A primary block that is not Opus is refused as malformed, costing that packet only.
    assert buffer.add(red_packet(5, bytes([comfort_noise]) + b"cn")) == (False, None)
    assert buffer.malformed == 1


def test_sdp_helpers() -> None:
    offer = (
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 63 111 0\r\na=rtpmap:63 red/48000/2\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    assert red_format(offer) == RedFormat(RED, OPUS)
    assert "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n" in with_red_parameters(offer)
    assert with_red_parameters(with_red_parameters(offer)).count("a=fmtp:63") == 1
    packer = red_packer_for(offer)
    assert packer is not None
    assert packer.opus_payload_type == OPUS
    opus_first = offer.replace("SAVPF 63 111 0", "SAVPF 111 63 0")
    assert red_packer_for(opus_first) is None  # RED offered, but Opus is sent
    plain = without_red(offer)
    assert "red" not in plain
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n" in plain
    assert red_format(plain) is None
    assert without_red(plain) == plain


def test_a_speaker_and_the_room_send_each_other_red() -> None:
    """Between real peers: both sides pack RED, and the room's buffer unpacks it."""

    async def scenario() -> None:
        engine = AiortcMediaEngine()
        room = Collected()
        await engine.open_room("room", room)
        peer = SpeakerPeer(tone(440))
        answer = await engine.add_speaker("room", "alice", await peer.offer())
        await peer.accept(answer)
        assert red_format(answer) is not None
        leg = engine.mixing_room("room").legs["alice"]
        assert leg.returns.red_packer is not None
        assert peer.track.red_packer is not None
        for _ in range(200):
            if len(room.frames) > 50 and peer.heard.blocks:
                break
            await asyncio.sleep(0.02)
        assert leg.receiver is not None
        assert leg.receiver.jitter is not None
        assert leg.receiver.jitter.red == red_format(answer)
        assert leg.receiver.dropped == 0
        assert leg.receiver.jitter.malformed == 0
        assert float(np.abs(np.concatenate(room.frames[-25:])).max()) > 0.1  # the tone
        await peer.close()
        await engine.close_room("room")

    asyncio.run(scenario())


def test_a_room_that_does_not_repair_losses_takes_no_red() -> None:
    async def scenario() -> None:
        engine = AiortcMediaEngine(repair_losses=False)
        await engine.open_room("room", Collected())
        peer = SpeakerPeer(tone(440))
        answer = await engine.add_speaker("room", "alice", await peer.offer())
        assert red_format(answer) is None
        await peer.accept(answer)
        assert peer.track.red_packer is None
        await peer.close()
        await engine.close_room("room")

    asyncio.run(scenario())


def test_random_payloads_never_crash_the_unpacker() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
        with contextlib.suppress(MalformedRed):
            split_red(payload)


def test_aiortc_is_taught_red_once() -> None:
    from aiortc.codecs import CODECS

    from airspace.media.opus_red import RED_MIME, teach_aiortc_red

    teach_aiortc_red()
    teach_aiortc_red()
    mimes = [codec.mimeType.lower() for codec in CODECS["audio"]]
    assert mimes.count(RED_MIME) == 1
    assert mimes[-1] == RED_MIME  # after aiortc's own: nobody gets it unasked
