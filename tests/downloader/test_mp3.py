from __future__ import annotations

from pathlib import Path

import mutagen.mp3
import numpy as np
import pytest

from airspace.downloader.mp3 import ChunkPlanner, encode_chunk
from airspace.downloader.parts import Part
from airspace.media.hls_segments import segment_frames
from airspace.media.mp3_file import Mp3Writer
from tests.audio import SAMPLE_RATE, aac_frames, best_lag, decode, tone_bursts


def write_parts(tmp_path: Path, frames: list[bytes]) -> list[tuple[Part, int]]:
    parts = []
    for index, group in enumerate(segment_frames(frames, 2.0, SAMPLE_RATE)):
        path = tmp_path / f"{index:05d}.aac"
        path.write_bytes(b"".join(group))
        parts.append((Part(str(path), 0, path.stat().st_size), len(group) * 1024))
    return parts


def encode(tmp_path: Path, parts: list[tuple[Part, int]], trim: int, chunk_seconds: float) -> Path:
    planner = ChunkPlanner(trim, SAMPLE_RATE, 1, chunk_seconds)
    jobs = []
    for part, samples in parts:
        jobs += planner.feed(part, samples)
    jobs += planner.finish()
    output = tmp_path / "out.mp3"
    writer = Mp3Writer(output, SAMPLE_RATE, 1, 5)
    for index, job in reversed(list(enumerate(jobs))):  # results may arrive in any order
        writer.add(index, encode_chunk(job))
    writer.finish(planner.output_samples)
    assert len(jobs) > 3 or chunk_seconds > 30
    return output


@pytest.mark.parametrize("trim_seconds", [0.0, 3.21])
def test_chunked_mp3_is_exact_and_seamless(tmp_path: Path, trim_seconds: float) -> None:
    frames = aac_frames(tone_bursts(41.0))
    parts = write_parts(tmp_path, frames)
    reference, _ = decode(b"".join(frames), format="aac")
    trim = round(trim_seconds * SAMPLE_RATE)
    expected = reference[trim:]

    output = encode(tmp_path, parts, trim, chunk_seconds=7.0)

    info = mutagen.mp3.MP3(output).info
    assert info.length == pytest.approx(len(expected) / SAMPLE_RATE, abs=1 / SAMPLE_RATE)
    decoded, rate = decode(output)
    assert rate == SAMPLE_RATE
    assert abs(len(decoded) - len(expected)) <= 1
    lag, correlation = best_lag(expected, decoded)
    assert lag == 0
    assert correlation > 0.97
    # No seam: the error around every chunk cut is no worse than anywhere else.
    error = (decoded[: len(expected)] - expected[: len(decoded)]) ** 2
    block = 1152
    energies = np.array([error[i : i + block].mean() for i in range(0, len(error) - block, block)])
    cuts = [(k * 7 * SAMPLE_RATE) // block for k in range(1, 6)]
    worst_at_cut = max(energies[c - 2 : c + 3].max() for c in cuts)
    assert worst_at_cut < 4 * np.percentile(energies, 99)


def test_same_input_same_bytes(tmp_path: Path) -> None:
    frames = aac_frames(tone_bursts(12.0, seed=3))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = encode(tmp_path / "a", write_parts(tmp_path / "a", frames), 0, 3.0).read_bytes()
    second = encode(tmp_path / "b", write_parts(tmp_path / "b", frames), 0, 3.0).read_bytes()
    assert first == second
