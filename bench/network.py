"""Benchmark: live rooms over an impaired network, with loss repair on and off.

    .venv/bin/python bench/network.py [--conditions "0%,2%,5%,10%,5% bursty"]

Needs espeak-ng and sox (the speech), and `pip install pesq` (the score).

Each speaker reaches the room (Airspace's media engine, in this process) through a UDP
relay of this bench (bench/udp_impairment.py; this machine's kernel has no netem) that
delays every packet by 25 ms ± 20 ms each way (50 ms round trip, packets may overtake
each other) and loses them: at random, or in bursts (Gilbert-Elliott, 3 packets long on
average). Per condition, twice: with loss repair (FEC asked for and sent, lost frames
recovered from it or concealed, the adaptive jitter buffer), and without (what the
room did before: a late or lost frame is a gap).

- Two speakers take turns saying known sentences in one room. What the room's program
  holds (what is recorded and streamed) is compared with what they said: the share of
  each speaker's 20 ms speech frames that are missing or badly made up (their spectrum
  off by more than 10 dB on average), and the program's speech quality against the
  sentences (wideband PESQ, 1 to 4.5; it aligns each utterance itself, so a voice a
  jitter buffer moved by a frame is not counted against it).
- In a second room a speaker sends a click every second and another, through its own
  impaired path, hears the room: the time from a click handed to the sender to its
  onset heard, median and p95 (speaker-to-speaker latency).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_capacity import click, click_latencies
from udp_impairment import ImpairedRelay, Impairment, candidate_host

from airspace.media.aiortc_engine import AiortcMediaEngine
from airspace.media.peer import SpeakerPeer, recording

RATE = 48_000
FRAME = 960
SENTENCES = [
    ("alice", "Good evening, and welcome to the garden show on a windy night."),
    ("bob", "Thank you. Tonight we talk about roses, tomatoes and the first frost."),
    ("alice", "Let us start with the roses. When should they be pruned this year?"),
    ("bob", "Late winter is best, just before the buds begin to swell and open."),
    ("alice", "And the tomatoes? Many listeners wrote in about split fruit."),
    ("bob", "Water them evenly. Splitting comes from a dry spell, then a downpour."),
]
LEAD_SECONDS, PAUSE_SECONDS = 1.0, 0.7
CONDITIONS = {
    "0%": Impairment(),
    "2%": Impairment(loss=0.02),
    "5%": Impairment(loss=0.05),
    "10%": Impairment(loss=0.10),
    "5% bursty": Impairment(burst_loss=0.05),
}
BAD_LSD_DB = 10.0


def spoken(text: str, voice: str) -> np.ndarray:
    with tempfile.TemporaryDirectory() as folder:
        raw, resampled = Path(folder) / "s.wav", Path(folder) / "r.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(resampled)])
        with wave.open(str(resampled)) as handle:
            data = handle.readframes(handle.getnframes())
    pcm = np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768
    return (0.3 * pcm / max(1e-6, float(np.abs(pcm).max()))).astype(np.float32)


def conversation() -> dict[str, np.ndarray]:
    """Each speaker's source: their sentences at their turns, silence between."""
    voices = {"alice": "en-us+f3", "bob": "en-gb+m3"}
    said = [(who, spoken(text, voices[who])) for who, text in SENTENCES]
    total = int(RATE * (LEAD_SECONDS + sum(len(p) / RATE + PAUSE_SECONDS for _, p in said) + 1))
    sources = {who: np.zeros(total, np.float32) for who in voices}
    at = int(RATE * LEAD_SECONDS)
    for who, pcm in said:
        sources[who][at : at + len(pcm)] = pcm
        at += len(pcm) + int(RATE * PAUSE_SECONDS)
    return sources


@dataclass
class Program:
    frames: list[np.ndarray] = field(default_factory=list)

    def program(self, frame: np.ndarray) -> None:
        self.frames.append(frame)

    def activity(self, change: Any) -> None: ...
    def link_quality(self, speaker: str, quality: Any) -> None: ...
    def speaker_track(self, part: Any) -> None: ...
    def speaker_lost(self, speaker: str) -> None: ...
    def failed(self, error: BaseException) -> None:
        raise error


async def join(
    engine: AiortcMediaEngine, room: str, name: str, peer: SpeakerPeer, path: Impairment
) -> ImpairedRelay:
    relay = ImpairedRelay(_copy(path), _copy(path))
    offer = await peer.offer()
    await relay.start(candidate_host(offer))
    answer = await engine.add_speaker(room, name, relay.offer_through(offer))
    await peer.accept(relay.answer_through(answer))
    return relay


def _copy(path: Impairment) -> Impairment:
    return Impairment(path.delay_ms, path.jitter_ms, path.loss, path.burst_loss, path.burst_packets)


async def run(path: Impairment, repair: bool, sources: dict[str, np.ndarray]) -> dict[str, Any]:
    engine = AiortcMediaEngine(speaker_timeout=60, repair_losses=repair)
    talk, click_room = Program(), Program()
    await engine.open_room("talk", talk)
    await engine.open_room("clicks", click_room)
    peers = {who: SpeakerPeer(recording(pcm), protect=repair) for who, pcm in sources.items()}
    clicker = SpeakerPeer(click(), protect=repair)
    # The ear holds 2 packets, as a browser's adaptive buffer settles at this jitter.
    ear = SpeakerPeer(lambda n: np.zeros(FRAME, np.float32), 2, protect=repair)
    relays = [await join(engine, "talk", who, peer, path) for who, peer in peers.items()]
    relays += [await join(engine, "clicks", "clicker", clicker, path)]
    relays += [await join(engine, "clicks", "ear", ear, path)]
    everyone = [*peers.values(), clicker, ear]
    deadline = time.monotonic() + 15
    while any(p.pc.connectionState != "connected" for p in everyone):
        if time.monotonic() > deadline:
            raise RuntimeError("the speakers did not connect through the relays")
        await asyncio.sleep(0.05)
    for relay in relays:
        relay.impaired = True
    start = len(talk.frames)
    length = max(len(pcm) for pcm in sources.values()) / RATE
    await asyncio.sleep(length + 1.0)
    program = np.concatenate(talk.frames[start:])
    repairs = {}
    for who in peers:
        leg = engine._rooms["talk"].legs[who]
        voice = leg.voice
        jitter = leg.pc.getReceivers()[0]._RTCRtpReceiver__jitter_buffer
        repairs[who] = {
            "recovered": voice.recovered if voice else 0,
            "concealed": voice.concealed if voice else 0,
            "lost": jitter.lost,
            "late": jitter.late,
            "restored": jitter.restored,
            "depth": leg.depth,
        }
    latencies, _ = click_latencies(ear, clicker.track.sent, 0.0, float("inf"))
    lost = {
        who: relay.dropped["up"] / max(1, relay.dropped["up"] + relay.passed["up"])
        for who, relay in zip(peers, relays, strict=False)
    }
    for peer in everyone:
        await peer.close()
    for room in ("talk", "clicks"):
        await engine.close_room(room)
    for relay in relays:
        relay.close()
    return {"program": program, "latencies": latencies, "path_loss": lost, "repairs": repairs}


def offset(program: np.ndarray, source: np.ndarray) -> int:
    """Samples by which ``source`` appears later in ``program`` (cross-correlation)."""
    size = 1 << int(np.ceil(np.log2(len(program) + len(source))))
    spectrum = np.fft.rfft(program, size) * np.conj(np.fft.rfft(source, size))
    correlation = np.fft.irfft(spectrum, size)
    lag = int(np.argmax(correlation))
    return lag if lag < size // 2 else lag - size


def band_db(frame: np.ndarray) -> np.ndarray:
    spectrum = np.abs(np.fft.rfft(frame * np.hanning(len(frame)))) ** 2
    edges = [3, 6, 12, 24, 48, 96, 160, 240, 320]  # bins of 50 Hz: 150 Hz .. 16 kHz
    return np.array(
        [10 * np.log10(spectrum[a:b].sum() + 1e-10) for a, b in itertools.pairwise(edges)]
    )


def bad_frames(program: np.ndarray, source: np.ndarray) -> tuple[int, int]:
    """(speech frames of ``source`` missing or badly made up in ``program``, all of
    them), aligned per half second (a jitter buffer may shift the voice a frame)."""
    base = offset(program, source)
    bad = total = 0
    level = np.abs(source).max() * 10 ** (-30 / 20)
    for window in range(0, len(source) - RATE // 2, RATE // 2):
        piece = source[window : window + RATE // 2]
        if np.sqrt(np.mean(piece**2)) < level:
            continue
        around = program[max(0, base + window - 4 * FRAME) : base + window + RATE // 2 + 4 * FRAME]
        shift = offset(around, piece) + max(0, base + window - 4 * FRAME)
        for at in range(0, len(piece) - FRAME, FRAME):
            said = piece[at : at + FRAME]
            if np.sqrt(np.mean(said**2)) < level:
                continue
            total += 1
            got = program[shift + at : shift + at + FRAME]
            if len(got) < FRAME or np.mean(np.abs(band_db(got) - band_db(said))) > BAD_LSD_DB:
                bad += 1
    return bad, total


def scores(program: np.ndarray, sources: dict[str, np.ndarray]) -> dict[str, Any]:
    from pesq import pesq

    reference = np.zeros_like(program)
    bad: dict[str, float] = {}
    for who, source in sources.items():
        at = offset(program, source)
        end = min(len(program), at + len(source))
        reference[max(0, at) : end] += source[max(0, -at) : end - at]
        wrong, total = bad_frames(program, source)
        bad[who] = wrong / max(1, total)
    ref16, deg16 = reference[::3], program[::3]  # 48 kHz to 16 kHz (speech is band-limited)
    return {"bad": bad, "pesq": float(pesq(16_000, ref16, deg16, "wb"))}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    args = parser.parse_args()
    try:
        import pesq  # noqa: F401
    except ImportError:
        sys.exit("error: pip install pesq (see this script's docstring)")
    sources = conversation()
    seconds = max(len(p) for p in sources.values()) / RATE
    print(
        f"two speakers, {len(SENTENCES)} sentences in turns, {seconds:.0f} s; 50 ms RTT, "
        "±20 ms jitter each way"
    )
    rows = []
    for name in args.conditions.split(","):
        path = CONDITIONS[name.strip()]
        row: dict[str, Any] = {"condition": name.strip()}
        for repair in (True, False):
            result = asyncio.run(run(path, repair, sources))
            measured = scores(result["program"], sources)
            key = "on" if repair else "off"
            row[key] = {**measured, "latencies": result["latencies"]}
            worst = max(measured["bad"].values())
            print(
                f"{name:>10} repair {key:>3}: worst speaker {100 * worst:5.2f} % frames bad, "
                f"PESQ {measured['pesq']:.2f}, latency p50 "
                f"{pct(result['latencies'], 50):.0f} / p95 {pct(result['latencies'], 95):.0f} ms"
                f" ({len(result['latencies'])} clicks); path loss "
                + ", ".join(f"{w} {100 * v:.1f} %" for w, v in result["path_loss"].items())
                + "; frames restored from RED / recovered from FEC / concealed: "
                + ", ".join(
                    f"{w} {r['restored']} / {r['recovered']} / {r['concealed']}"
                    for w, r in result["repairs"].items()
                ),
                flush=True,
            )
        rows.append(row)
    print()
    print(
        "| condition | speech frames bad (repair on / off) | PESQ wb (on / off) "
        "| latency p50 / p95 (on) | latency p50 / p95 (off) |"
    )
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        on, off = row["on"], row["off"]
        print(
            f"| {row['condition']} | {100 * max(on['bad'].values()):.2f} % / "
            f"{100 * max(off['bad'].values()):.2f} % | {on['pesq']:.2f} / {off['pesq']:.2f} | "
            f"{pct(on['latencies'], 50):.0f} / "
            f"{pct(on['latencies'], 95):.0f} ms | {pct(off['latencies'], 50):.0f} / "
            f"{pct(off['latencies'], 95):.0f} ms |"
        )
    by_name = {row["condition"]: row["on"] for row in rows}
    print()
    checks = []
    if "5%" in by_name:
        bad5 = max(by_name["5%"]["bad"].values())
        checks.append(("5 %: speech frames bad < 1 %", bad5 < 0.01, f"{100 * bad5:.2f} %"))
        if "0%" in by_name:
            drop = by_name["0%"]["pesq"] - by_name["5%"]["pesq"]
            checks.append(("5 %: PESQ within 0.3 of 0 %", drop <= 0.3, f"{drop:.2f} lower"))
    if "10%" in by_name:
        bad10 = max(by_name["10%"]["bad"].values())
        checks.append(("10 %: speech frames bad < 3 %", bad10 < 0.03, f"{100 * bad10:.2f} %"))
    p95 = max(pct(on["latencies"], 95) for on in by_name.values())
    checks.append(("p95 latency < 250 ms (every condition)", p95 < 250, f"{p95:.0f} ms"))
    for label, held, value in checks:
        print(f"{label}: {value} {'✓' if held else '✗'}")


if __name__ == "__main__":
    main()
