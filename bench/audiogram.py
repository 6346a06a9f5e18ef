"""Benchmark: Airspace's audiogram renderer against ffmpeg's showwaves on the same clip.

    .venv/bin/python bench/audiogram.py [--seconds 60] [--rounds 3]

Needs ffmpeg (apt-get install ffmpeg) and espeak-ng. The clip is spoken sentences at
48 kHz mono. Each side renders an H.264 + AAC MP4 of the clip at 1080x1080:

- Airspace: waveform bars, title, host and burned-in captions with speaker names (what
  a clip's audiogram holds), 15 frames a second, libx264 "ultrafast";
- ffmpeg as guides give it: the showwaves filter (a waveform only), its defaults
  (25 frames a second, libx264 "medium");
- ffmpeg at Airspace's settings: showwaves at 15 frames a second, libx264 "ultrafast".

Prints the median wall time and CPU time of each over the rounds, and the ratios the
targets are stated in (at most 10 s, and at most 1.0x ffmpeg).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from airspace.captions.transcript import Cue  # noqa: E402
from airspace.sharing import audiogram  # noqa: E402

SENTENCES = (
    "Welcome everyone to our weekly conversation about science.",
    "Today we are talking about the ocean and the animals that live in it.",
    "Whales sing to each other across hundreds of kilometres of water.",
    "Some of their songs change a little every year, like a language.",
)


def speech(seconds: float, folder: Path) -> tuple[np.ndarray, list[Cue]]:
    """``seconds`` of spoken sentences (48 kHz mono) and a caption cue for each."""
    pieces: list[np.ndarray] = []
    cues: list[Cue] = []
    position = 0.0
    number = 0
    while position < seconds:
        text = SENTENCES[number % len(SENTENCES)]
        wav = folder / f"s{number}.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True)
        with av.open(str(wav)) as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=48_000)
            frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)]
            frames += resampler.resample(None)
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
        cues.append(Cue("Alice Host", position, position + len(pcm) / 48_000, text))
        pieces.append(pcm)
        position += len(pcm) / 48_000
        number += 1
    whole = np.concatenate(pieces)[: round(seconds * 48_000)].astype(np.float32)
    return whole, cues


def write_wav(pcm: np.ndarray, path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=48_000, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            (np.clip(pcm, -1, 1) * 32767).astype(np.int16).reshape(1, -1),
            format="s16",
            layout="mono",
        )
        frame.sample_rate = 48_000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_ffmpeg(command: list[str]) -> tuple[float, float]:
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start, children_cpu() - cpu


def time_airspace(pcm: np.ndarray, cues: list[Cue], out: Path) -> tuple[float, float]:
    cpu, start = own_cpu(), time.perf_counter()
    audiogram.render(pcm, cues, "Science weekly: whales", "Alice Host", "square", out)
    return time.perf_counter() - start, own_cpu() - cpu


def ffmpeg(wav: Path, out: Path, rate: int | None, preset: str | None) -> list[str]:
    waves = "showwaves=s=1080x1080:mode=cline:colors=0x7c5cff"
    if rate is not None:
        waves += f":rate={rate}"
    command = ["ffmpeg", "-v", "error", "-y", "-i", str(wav)]
    command += ["-filter_complex", f"[0:a]{waves},format=yuv420p[v]", "-map", "[v]"]
    command += ["-map", "0:a", "-c:v", "libx264"]
    if preset is not None:
        command += ["-preset", preset]
    return [*command, "-c:a", "aac", "-b:a", "96k", str(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="airspace-bench-audiogram-") as name:
        folder = Path(name)
        pcm, cues = speech(args.seconds, folder)
        wav = folder / "clip.wav"
        write_wav(pcm, wav)
        sides = {
            "airspace (waveform, title, host, captions; 15 fps, ultrafast)": lambda: time_airspace(
                pcm, cues, folder / "airspace.mp4"
            ),
            "ffmpeg showwaves (defaults: 25 fps, medium)": lambda: time_ffmpeg(
                ffmpeg(wav, folder / "ffmpeg.mp4", None, None)
            ),
            "ffmpeg showwaves (15 fps, ultrafast)": lambda: time_ffmpeg(
                ffmpeg(wav, folder / "ffmpeg-fast.mp4", 15, "ultrafast")
            ),
        }
        results: dict[str, tuple[float, float]] = {}
        for label, run in sides.items():
            runs = [run() for _ in range(args.rounds)]
            results[label] = (
                statistics.median(r[0] for r in runs),
                statistics.median(r[1] for r in runs),
            )
    print(f"a {args.seconds:.0f} s clip at 1080x1080, H.264 + AAC; median of {args.rounds} rounds")
    print("| renderer | wall s | CPU s |")
    print("|---|---:|---:|")
    for label, (wall, cpu) in results.items():
        print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
    ours, *peers = results.values()
    print(f"airspace: {ours[0]:.2f} s (target <= 10 s: {'met' if ours[0] <= 10 else 'not met'})")
    for label, peer in zip(list(results)[1:], peers, strict=True):
        ratio = ours[0] / peer[0]
        verdict = "met" if ratio <= 1.0 else "not met"
        print(f"airspace / {label}: {ratio:.2f}x (target <= 1.0x: {verdict})")


if __name__ == "__main__":
    main()
