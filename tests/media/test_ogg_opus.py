"""Ogg Opus files from ready packets: any decoder (here FFmpeg's, through PyAV) plays
them, from the first sample, for as long as the packets last."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from airspace.media.ogg_opus import PRE_SKIP, ogg_crc, ogg_opus
from airspace.media.opus import VoiceEncoder
from airspace.media.peer import tone
from tests.audio import band_share


def decoded(data: bytes) -> tuple[np.ndarray, dict[str, str]]:
    with av.open(io.BytesIO(data), format="ogg") as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name in ("opus", "libopus")
        pcm = np.concatenate(
            [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
        ).astype(np.float32)
        return pcm, dict(stream.metadata)


def bitwise_crc(data: bytes) -> int:
    """Ogg's CRC the way RFC 3533 describes it: bit by bit, most significant first."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def test_the_crc_is_oggs() -> None:
    # Ogg's CRC (0x04C11DB7, zero start, no reflection, no final xor) of "123456789".
    assert ogg_crc(b"123456789") == 0x89A1897F
    rng = np.random.default_rng(3)
    for size in (0, 1, 27, 255, 4096):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert ogg_crc(data) == bitwise_crc(data)


def test_a_track_plays_its_sound_where_it_was_and_is_tagged() -> None:
    encoder = VoiceEncoder(4)
    source = tone(440.0)
    silence = np.zeros(960, np.float32)
    # 1 s of silence, 2 s of tone, 1 s of silence: 200 packets over 4 pages and more.
    frames = [silence] * 50 + [source(n) for n in range(100)] + [silence] * 50
    packets = [encoder.payload(frame) for frame in frames]
    data = b"".join(ogg_opus(packets, 960, {"title": "Weekly", "artist": "Alice"}))

    pcm, tags = decoded(data)
    assert len(pcm) == 200 * 960 - PRE_SKIP
    assert {k.lower(): v for k, v in tags.items()} == {"title": "Weekly", "artist": "Alice"}
    loud = np.flatnonzero(np.abs(pcm) > 0.05)
    assert loud[0] / 48_000 == pytest.approx(1.0, abs=0.005)  # lined up with the input
    assert loud[-1] / 48_000 == pytest.approx(3.0, abs=0.01)
    assert band_share(pcm[60_000:130_000], 440.0) > 0.9


def test_a_file_with_no_packets_is_still_a_valid_empty_stream() -> None:
    data = b"".join(ogg_opus([], 960))
    assert data.startswith(b"OggS")
    assert b"OpusHead" in data
    assert b"OpusTags" in data
