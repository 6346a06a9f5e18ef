"""``airspace download --captions`` on a 10-minute HLS recording of known speech: how
fast the captions are made on this machine, and how close they are to what the same
model hears in the source audio.

Speaks known sentences with espeak-ng (several voices, as bench/captions.py), encodes
them as a Space's HLS (AAC 64 kb/s, 2 s segments), serves it on loopback, downloads it
as MP3 and captions the MP3 with the recogniser the download uses; the same model also
transcribes the source audio before encoding.

    .venv/bin/python bench/download_captions.py [--minutes 10]

Targets: captions within 3 points of word error rate of the same model on the source
audio, made at least 10x faster than real time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hls_fixture import SAMPLE_RATE, serve, write_hls

from airspace.captions.accuracy import word_error_rate
from airspace.captions.recognizer import ASR_SAMPLE_RATE, WhisperRecognizer
from airspace.downloader import download
from airspace.downloader.captions import recognized_cues, write_captions
from captions import build_speech


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    print("$ " + " ".join([".venv/bin/python", *sys.argv]))
    source, reference = build_speech(args.minutes)
    seconds = len(source) / ASR_SAMPLE_RATE
    at_48k = np.interp(
        np.arange(0, len(source), ASR_SAMPLE_RATE / SAMPLE_RATE), np.arange(len(source)), source
    ).astype(np.float32)
    folder = Path(tempfile.mkdtemp(prefix="airspace-captions-"))
    write_hls(folder / "hls", at_48k)
    base, server = serve(folder / "hls")

    recognizer = WhisperRecognizer()
    recognizer.transcribe(np.zeros(ASR_SAMPLE_RATE, dtype=np.float32))  # load the model
    on_source = " ".join(w.text for w in recognizer.transcribe(source))

    started = time.perf_counter()
    result = download(f"{base}/index.m3u8", str(folder / "space.%(ext)s"), format="mp3")
    downloaded = time.perf_counter() - started
    started = time.perf_counter()
    cues = recognized_cues(result.path, recognizer)
    captioning = time.perf_counter() - started
    written = write_captions(result.path, cues, "vtt")
    server.shutdown()

    source_wer = word_error_rate(reference, on_source)
    captions_wer = word_error_rate(reference, " ".join(c.body for c in cues))
    gap = (captions_wer - source_wer) * 100
    print(f"speech:            {seconds / 60:.1f} min, {len(reference.split())} words")
    print(f"download (MP3):    {downloaded:.1f} s")
    print(
        f"captions:          {captioning:.1f} s on {os.cpu_count()} cores = "
        f"{seconds / captioning:.1f}x real time   (target >= 10x)"
    )
    print(f"WER, source audio: {source_wer * 100:.1f} %  (the same model, before encoding)")
    print(f"WER, captions:     {captions_wer * 100:.1f} %  ({gap:+.1f} points; target within 3)")
    print(f"written:           {written.name}, {len(cues)} cues")


if __name__ == "__main__":
    main()
