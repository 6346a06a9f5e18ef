"""Audiograms: a clip as a video people can post where audio alone does not play — an
animated waveform, the title, the host, and the captions burned in with speaker names.

Rendered on the CPU with PyAV (H.264 + AAC in MP4). Frames are drawn straight into the
encoder's YUV 4:2:0 planes: the still parts (background, title, host, the current
caption) are composed once, and each frame copies them and draws only the bars and the
progress line.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from airspace.captions.transcript import Cue
from airspace.media.audio_files import AAC_BIT_RATE, aac_frames
from airspace.media.constants import SAMPLE_RATE

FRAME_RATE = 15
"""Enough for bars that move with the voice; every frame costs encoding time."""
BARS = 48
BAR_WINDOW_SECONDS = 1.2
"""The stretch of sound the bars show, centred on the moment played."""
SIZES = {"square": (1080, 1080), "portrait": (1080, 1920)}

Colour = tuple[int, int, int]
BACKGROUND: Colour = (15, 17, 21)
ACCENT: Colour = (124, 92, 255)
TEXT: Colour = (232, 234, 240)
MUTED: Colour = (154, 163, 178)


@cache
def yuv(colour: Colour) -> tuple[int, int, int]:
    """BT.601 limited-range YUV of an RGB colour (what H.264 players assume)."""
    r, g, b = (c / 255 for c in colour)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


class Planes:
    """One YUV 4:2:0 picture as a single buffer with a view of each plane."""

    def __init__(self, width: int, height: int, buffer: np.ndarray | None = None) -> None:
        self.width, self.height = width, height
        luma = width * height
        self.buffer = buffer if buffer is not None else np.empty(luma * 3 // 2, dtype=np.uint8)
        self.y = self.buffer[:luma].reshape(height, width)
        self.u = self.buffer[luma : luma * 5 // 4].reshape(height // 2, width // 2)
        self.v = self.buffer[luma * 5 // 4 :].reshape(height // 2, width // 2)

    def copy(self) -> Planes:
        return Planes(self.width, self.height, self.buffer.copy())

    def fill(self, colour: Colour, top: int = 0, bottom: int | None = None) -> None:
        y, u, v = yuv(colour)
        bottom = self.height if bottom is None else bottom
        self.y[top:bottom] = y
        self.u[top // 2 : bottom // 2] = u
        self.v[top // 2 : bottom // 2] = v

    def rectangle(self, left: int, top: int, right: int, bottom: int, colour: Colour) -> None:
        """Fill a rectangle (even coordinates keep the colour planes exact)."""
        y, u, v = yuv(colour)
        self.y[top:bottom, left:right] = y
        self.u[top // 2 : bottom // 2, left // 2 : right // 2] = u
        self.v[top // 2 : bottom // 2, left // 2 : right // 2] = v

    def text(self, lines: Sequence[str], top: int, size: int, colour: Colour) -> int:
        """Draw centred lines of text; returns the y below them."""
        face = font(size)
        line_height = round(size * 1.25)
        mask = Image.new("L", (self.width, line_height * len(lines)), 0)
        draw = ImageDraw.Draw(mask)
        for number, line in enumerate(lines):
            width = draw.textlength(line, font=face)
            draw.text(((self.width - width) / 2, number * line_height), line, font=face, fill=255)
        alpha = np.asarray(mask, dtype=np.float32) / 255
        bottom = min(self.height, top + int(alpha.shape[0]))
        alpha = alpha[: bottom - top]
        y, u, v = yuv(colour)
        region = self.y[top:bottom]
        region[:] = (region * (1 - alpha) + y * alpha).astype(np.uint8)
        half = alpha[::2, ::2][: (bottom - top) // 2]
        for plane, value in ((self.u, u), (self.v, v)):
            part = plane[top // 2 : top // 2 + half.shape[0]]
            part[:] = (part * (1 - half) + value * half).astype(np.uint8)
        return bottom


@dataclass(frozen=True)
class Layout:
    width: int
    height: int

    @property
    def scale(self) -> float:
        return self.height / 1080

    @property
    def title_top(self) -> int:
        return round(90 * self.scale)

    @property
    def wave_centre(self) -> int:
        return self.height // 2 - (0 if self.height == self.width else round(60 * self.scale))

    @property
    def wave_height(self) -> int:
        return round(min(self.width, self.height) * 0.32)

    @property
    def caption_top(self) -> int:
        return self.wave_centre + self.wave_height // 2 + round(60 * self.scale)


def loudness(pcm: np.ndarray, frame_count: int) -> np.ndarray:
    """Loudness per bar per frame, 0..1: for each frame, ``BARS`` windows of the sound
    around the moment it shows."""
    step = BAR_WINDOW_SECONDS / BARS
    window = max(1, round(step * SAMPLE_RATE))
    padded = np.concatenate(
        [np.zeros(window * BARS, np.float32), pcm, np.zeros(window * BARS, np.float32)]
    )
    squares = np.concatenate([[0.0], np.cumsum(padded.astype(np.float64) ** 2)])
    centres = (np.arange(frame_count) / FRAME_RATE * SAMPLE_RATE).astype(np.int64) + window * BARS
    offsets = ((np.arange(BARS) - BARS / 2) * window).astype(np.int64)
    starts = centres[:, None] + offsets[None, :]
    energy = (squares[starts + window] - squares[starts]) / window
    level = np.sqrt(np.maximum(energy, 0))
    peak = max(float(np.percentile(level, 99)), 1e-4)
    clipped: np.ndarray = np.clip(level / peak, 0.04, 1.0)
    return clipped


def caption_lines(cue: Cue | None, width: int, size: int) -> list[str]:
    if cue is None:
        return []
    text = f"{cue.speaker}: {cue.body}" if cue.speaker else cue.body
    characters = max(12, int(width / (size * 0.55)))
    return textwrap.wrap(text, characters)[:3]


def render(
    pcm: np.ndarray,
    cues: Sequence[Cue],
    title: str,
    host: str,
    size: str,
    path: Path,
    progress: Callable[[float], None] = lambda _: None,
) -> None:
    """Write the audiogram of ``pcm`` (48 kHz mono) as an MP4 at ``size`` ("square" or
    "portrait"). ``cues`` are on the clip's clock (0 = its first sample)."""
    width, height = SIZES[size]
    layout = Layout(width, height)
    frame_count = max(1, math.ceil(len(pcm) / SAMPLE_RATE * FRAME_RATE))
    levels = loudness(pcm, frame_count)

    still = Planes(width, height)
    still.fill(BACKGROUND)
    below = still.text(
        textwrap.wrap(title, 26)[:3], layout.title_top, round(64 * layout.scale), TEXT
    )
    still.text([host], below + round(16 * layout.scale), round(40 * layout.scale), MUTED)
    still.text(["Airspace"], height - round(70 * layout.scale), round(30 * layout.scale), MUTED)

    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FRAME_RATE)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "23", "tune": "stillimage"}
        audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        audio.bit_rate = AAC_BIT_RATE

        # The sound is encoded beside the pictures (FFmpeg lets go of the GIL meanwhile).
        with ThreadPoolExecutor(1) as pool:
            sound = pool.submit(lambda: [p for f in aac_frames(pcm) for p in audio.encode(f)])
            _draw_frames(container, video, still, layout, levels, cues, progress)
            container.mux(sound.result())
        container.mux(audio.encode(None))
    progress(1.0)


def _draw_frames(
    container: av.container.OutputContainer,
    video: av.video.stream.VideoStream,
    still: Planes,
    layout: Layout,
    levels: np.ndarray,
    cues: Sequence[Cue],
    progress: Callable[[float], None],
) -> None:
    width, height = layout.width, layout.height
    frame_count = len(levels)
    bar_pitch = (width - 2 * round(80 * layout.scale)) // BARS // 2 * 2
    bar_width = max(2, bar_pitch * 3 // 5 // 2 * 2)
    left = (width - bar_pitch * BARS) // 2 // 2 * 2
    caption_size = round(44 * layout.scale)
    base, shown_cue = still, None
    for number in range(frame_count):
        at = number / FRAME_RATE
        cue = next((c for c in cues if c.start <= at < c.end), None)
        if cue is not shown_cue:  # the caption changes: compose the still part again
            base = still.copy()
            base.text(
                caption_lines(cue, width, caption_size), layout.caption_top, caption_size, TEXT
            )
            shown_cue = cue
        planes = base.copy()
        for bar, level in enumerate(levels[number]):
            half = max(2, int(level * layout.wave_height / 2) // 2 * 2)
            x = left + bar * bar_pitch
            top = layout.wave_centre - half
            planes.rectangle(x, top, x + bar_width, layout.wave_centre + half, ACCENT)
        played = int(width * (number + 1) / frame_count) // 2 * 2
        planes.rectangle(0, height - 8, played, height, ACCENT)
        frame = av.VideoFrame.from_ndarray(
            planes.buffer.reshape(height * 3 // 2, width), format="yuv420p"
        )
        frame.pts = number
        frame.time_base = Fraction(1, FRAME_RATE)
        container.mux(video.encode(frame))
        if number % FRAME_RATE == 0:
            progress(number / frame_count)
    container.mux(video.encode(None))
