"""What a return mix costs to encode, by libopus complexity and by what is said.

Encodes the same audio at each complexity with the encoder a room uses for the mixes it
sends back (mono Opus, 32 kb/s, 20 ms frames, VoIP) and prints CPU microseconds per
frame and the bit rate it reached, for two signals:

- speech: espeak-ng sentences in several voices, as people talk in a Space;
- bench tones: two quiet steady tones and a click a second, the mix one speaker of
  ``bench/live_capacity.py`` hears.

    .venv/bin/python bench/opus_complexity.py [--seconds 30]

A room encodes one mix per speaker 50 times a second, so 100 us a frame is 5 ms of CPU
a second per speaker leg.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from airspace.media.libopus import OpusEncoder
from airspace.media.opus import MICROPHONE_COMPLEXITY, MIX_COMPLEXITY, VOICE_BIT_RATE

RATE = 48_000
FRAME = 960
SENTENCES = [
    ("en-us", "Welcome back to the show. Today we are talking about public libraries."),
    ("en-gb", "I think the council should have asked the people who actually use them."),
    ("en-us+f3", "That is a fair point, but the budget was set two years ago."),
    ("en-us+m7", "Let us take a question from the audience before we run out of time."),
]


def speech(seconds: float) -> np.ndarray:
    pieces = []
    with tempfile.TemporaryDirectory() as scratch:
        for number, (voice, text) in enumerate(SENTENCES):
            path = Path(scratch) / f"{number}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
            resampled = Path(scratch) / f"{number}-48k.wav"
            subprocess.run(
                ["sox", str(path), "-r", str(RATE), "-c", "1", "-b", "16", str(resampled)],
                check=True,
            )
            with wave.open(str(resampled)) as audio:
                raw = audio.readframes(audio.getnframes())
            pieces.append(np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768)
    sentences = np.concatenate(pieces)
    return np.resize(sentences, int(seconds * RATE) // FRAME * FRAME)


def bench_tones(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE) // FRAME * FRAME) / RATE
    mix = (0.03 * np.sin(2 * np.pi * 700 * t) + 0.03 * np.sin(2 * np.pi * 850 * t)).astype(
        np.float32
    )
    burst = np.random.default_rng(7).choice([-0.8, 0.8], 240)
    for start in range(0, len(mix), RATE):
        mix[start : start + 240] += burst[: len(mix) - start]
    return mix


def encode(signal: np.ndarray, complexity: int) -> tuple[float, float]:
    """(CPU microseconds per frame, bits per second)."""
    encoder = OpusEncoder(RATE, VOICE_BIT_RATE, complexity=complexity)
    frames = [signal[start : start + FRAME] for start in range(0, len(signal), FRAME)]
    size = 0
    started = time.process_time()
    for frame in frames:
        size += len(encoder.encode(frame))
    spent = time.process_time() - started
    return spent / len(frames) * 1e6, size * 8 / (len(signal) / RATE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per signal")
    args = parser.parse_args()
    print("$", shlex.join(sys.orig_argv), "\n")
    signals = {"speech": speech(args.seconds), "bench tones": bench_tones(args.seconds)}
    print(
        "| complexity | speech us/frame | speech kb/s | bench tones us/frame | bench tones kb/s |"
    )
    print("|---:|---:|---:|---:|---:|")
    for complexity in (10, 9, 7, 5, 4, 3, 0):
        cells = []
        for signal in signals.values():
            micros, rate = encode(signal, complexity)
            cells += [f"{micros:.0f}", f"{rate / 1000:.1f}"]
        notes = {MIX_COMPLEXITY: " (mixes)", MICROPHONE_COMPLEXITY: " (microphones)"}
        print(f"| {complexity}{notes.get(complexity, '')} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
