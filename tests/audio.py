"""Test audio: signals with content a check can recognise, and decoding helpers."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import av
import numpy as np

from airspace.media.aac import AacEncoder

SAMPLE_RATE = 48_000


def tone_bursts(seconds: float, seed: int = 1, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Tone bursts of changing pitch with a little noise: every stretch is distinctive,
    so cross-correlation finds exactly one alignment."""
    rng = np.random.default_rng(seed)
    total = round(seconds * sample_rate)
    out = np.zeros(total, dtype=np.float32)
    position = 0
    while position < total:
        length = int(rng.integers(sample_rate // 20, sample_rate // 4))
        frequency = float(rng.uniform(150, 3000))
        t = np.arange(min(length, total - position)) / sample_rate
        envelope = np.hanning(len(t)) if len(t) > 1 else np.ones(len(t))
        out[position : position + len(t)] = 0.4 * envelope * np.sin(2 * np.pi * frequency * t)
        position += length
    out += 0.01 * rng.standard_normal(total).astype(np.float32)
    return out


def aac_frames(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[bytes]:
    encoder = AacEncoder(sample_rate=sample_rate, channels=1)
    return encoder.encode(pcm) + encoder.flush()


def decode(data: bytes | Path, format: str | None = None) -> tuple[np.ndarray, int]:
    """Mono float32 PCM and the sample rate of a file or bytes, decoded by FFmpeg."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(source, format=format) as container:
        stream = container.streams.audio[0]
        blocks = [
            f.to_ndarray()[:1].astype(np.float32).reshape(-1) for f in container.decode(stream)
        ]
        rate = stream.codec_context.sample_rate
    return (np.concatenate(blocks) if blocks else np.zeros(0, np.float32)), rate


def best_lag(
    reference: np.ndarray, candidate: np.ndarray, max_lag: int = 4800
) -> tuple[int, float]:
    """The shift of ``candidate`` against ``reference`` (in samples) and the normalised
    correlation there, computed over their common length."""
    n = min(len(reference), len(candidate))
    a = reference[:n] - reference[:n].mean()
    b = candidate[:n] - candidate[:n].mean()
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size))
    correlation = np.fft.irfft(spectrum, size)
    lags = np.concatenate((np.arange(0, max_lag + 1), np.arange(-max_lag, 0)))
    values = np.concatenate((correlation[: max_lag + 1], correlation[-max_lag:]))
    best = int(np.argmax(values))
    norm = float(np.sqrt((a * a).sum() * (b * b).sum())) or 1.0
    return -int(lags[best]), float(values[best] / norm)


def band_share(pcm: np.ndarray, frequency: float, sample_rate: int = SAMPLE_RATE) -> float:
    """The share of ``pcm``'s energy within 3 % of ``frequency`` (0 to 1): a tone a
    speaker sent is in a mix when its share is large, absent when it is near zero."""
    if len(pcm) == 0:
        return 0.0
    power = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm)))) ** 2
    frequencies = np.fft.rfftfreq(len(pcm), 1 / sample_rate)
    band = np.abs(frequencies - frequency) <= frequency * 0.03
    total = float(power.sum()) or 1.0
    return float(power[band].sum()) / total


def speech(text: str, voice: str = "en-us", words_per_minute: int = 160) -> np.ndarray:
    """``text`` spoken by espeak-ng, as float32 mono at 48 kHz."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        spoken, resampled = Path(folder) / "spoken.wav", Path(folder) / "48k.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(spoken), text],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["sox", str(spoken), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(resampled)],
            check=True,
            capture_output=True,
        )
        with wave.open(str(resampled)) as handle:
            data = handle.readframes(handle.getnframes())
    return np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768.0
