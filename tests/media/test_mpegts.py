from __future__ import annotations

import io

import av
import pytest

from airspace.media.hls_segments import mpegts_segment
from airspace.media.mpegts import TransportStreamError, adts_stream
from tests.audio import aac_frames, tone_bursts


def test_reads_what_ffmpeg_reads() -> None:
    frames = aac_frames(tone_bursts(3.0, seed=41))
    segment = mpegts_segment(frames[:94], 0)
    with av.open(io.BytesIO(segment), format="mpegts") as container:
        expected = b"".join(bytes(p) for p in container.demux(audio=0) if p.size)
    assert adts_stream(segment) == expected
    assert expected.count(b"\xff\xf1") >= 94


@pytest.mark.parametrize("data", [b"\x00" * 376, b"\x47" + b"\x00" * 187])
def test_refuses_what_it_cannot_read(data: bytes) -> None:
    with pytest.raises(TransportStreamError):
        adts_stream(data)
