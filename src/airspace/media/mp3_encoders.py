"""MP3 encoders: a libmp3lame library through ctypes (fast), or the copy bundled with
PyAV (built without LAME's optimisations: about three times slower).

The library is, in order: the one ``AIRSPACE_LAME_LIBRARY`` names (a path, ``system``,
or ``pedalboard``); the LAME inside Spotify's Pedalboard wheel, when the optional
``airspace[fast-mp3]`` installed it (the same LAME 3.100, built with other
optimisations: the same quality and size, about a fifth faster; GPLv3, see the README);
the system's (Debian: libmp3lame0).

Both take float PCM (channels x samples, -1..1) and give whole MP3 frames, with the bit
reservoir off so every frame stands alone (chunks encoded apart can then be joined).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from airspace.errors import ConfigError

if TYPE_CHECKING:
    import av

# Samples every MP3 decoder adds in front of LAME's own delay.
DECODER_DELAY = 529
FF_QP2LAMBDA = 118
_MPEG1_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_BITRATES = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
ALGORITHM_QUALITY = 5
"""LAME's ``-q``. In VBR mode LAME quantises the same way at every level from 0 to 5; it
treats 0-4 as 0, which is where its default (3, kept by ffmpeg) ends up, and 0 only adds
a slow search for the best split of the Huffman tables. At 5 the decoded audio is the
same, sample for sample, the file about 0.4 % larger, and encoding 5-8 % faster."""
LAME_LIBRARY_SETTING = "AIRSPACE_LAME_LIBRARY"


class Mp3Encoder(Protocol):
    delay: int
    """Samples from the first input sample to its place in the decoded output
    (LAME's delay plus the decoder's)."""

    def encode(self, pcm: np.ndarray) -> list[bytes]: ...

    def flush(self) -> list[bytes]: ...


def split_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """Whole MPEG audio layer III frames at the start of ``data``, and the bytes after them."""
    frames = []
    at = 0
    while at + 4 <= len(data):
        header = int.from_bytes(data[at : at + 4], "big")
        if header >> 21 != 0x7FF:
            raise ValueError(f"no MP3 frame sync at byte {at}")
        version = (header >> 19) & 0x3
        bitrate_index = (header >> 12) & 0xF
        rate_index = (header >> 10) & 0x3
        padding = (header >> 9) & 0x1
        if version == 1 or bitrate_index in (0, 15) or rate_index == 3:
            raise ValueError(f"invalid MP3 frame header at byte {at}")
        rate = _RATES[version][rate_index]
        if version == 3:
            length = 144 * _MPEG1_BITRATES[bitrate_index] * 1000 // rate + padding
        else:
            length = 72 * _MPEG2_BITRATES[bitrate_index] * 1000 // rate + padding
        if at + length > len(data):
            break
        frames.append(data[at : at + length])
        at += length
    return frames, data[at:]


PEDALBOARD_MODULE = "pedalboard_native"
"""Pedalboard's native module, which carries LAME and exports its C functions."""


def pedalboard_lame_path() -> str | None:
    """Where Pedalboard's native module is, when it is installed (it is not imported)."""
    try:
        spec = importlib.util.find_spec(PEDALBOARD_MODULE)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.origin else None


def lame_library_path() -> str | None:
    """The libmp3lame to load (see the module's docstring), or None if there is none."""
    chosen = os.environ.get(LAME_LIBRARY_SETTING, "")
    if chosen == "pedalboard":
        return pedalboard_lame_path() or chosen
    if chosen and chosen != "system":
        return chosen
    if not chosen and (bundled := pedalboard_lame_path()) is not None:
        return bundled
    return ctypes.util.find_library("mp3lame")


@cache
def lame_library() -> Any | None:
    """The loaded libmp3lame, or None if there is none or it does not load.

    Raises ConfigError when ``AIRSPACE_LAME_LIBRARY`` names a library that does not load.
    """
    name = lame_library_path()
    if name is None:
        return None
    if name == "pedalboard":
        raise ConfigError(
            f"{LAME_LIBRARY_SETTING}=pedalboard: Pedalboard is not installed "
            "(pip install 'airspace[fast-mp3]')"
        )
    try:
        return load_lame(name)
    except OSError as exc:
        if name == os.environ.get(LAME_LIBRARY_SETTING):  # the path came from the setting
            raise ConfigError(f"{LAME_LIBRARY_SETTING}: cannot load {name}: {exc}") from None
        return None


def load_lame(name: str) -> Any:
    """The libmp3lame at ``name`` (a path, or a name the loader finds), its functions
    typed for ctypes. Raises OSError when it does not load or is not libmp3lame."""
    library = ctypes.CDLL(name)
    try:
        library.lame_init.restype = ctypes.c_void_p
    except AttributeError:
        raise OSError(f"{name} is not libmp3lame") from None
    for function in (
        "lame_set_in_samplerate",
        "lame_set_out_samplerate",
        "lame_set_num_channels",
        "lame_set_mode",
        "lame_set_VBR",
        "lame_set_bWriteVbrTag",
        "lame_set_disable_reservoir",
        "lame_set_quality",
    ):
        getattr(library, function).argtypes = [ctypes.c_void_p, ctypes.c_int]
    library.lame_set_VBR_quality.argtypes = [ctypes.c_void_p, ctypes.c_float]
    library.lame_init_params.argtypes = [ctypes.c_void_p]
    library.lame_get_encoder_delay.argtypes = [ctypes.c_void_p]
    library.lame_encode_buffer_ieee_float.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
    ]
    library.lame_encode_flush.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    library.lame_close.argtypes = [ctypes.c_void_p]
    return library


class LameEncoder:
    """libmp3lame through ctypes: VBR at ``quality`` (0 best .. 9), no bit reservoir."""

    MODE_JOINT_STEREO, MODE_MONO, VBR_DEFAULT = 1, 3, 4

    def __init__(
        self,
        sample_rate: int,
        channels: int,
        quality: int,
        *,
        library: Any | None = None,
        algorithm_quality: int = ALGORITHM_QUALITY,
    ) -> None:
        if library is None:
            library = lame_library()
        if library is None:
            raise RuntimeError("libmp3lame is not installed")
        self._lame = library
        self.channels = channels
        self._handle = library.lame_init()
        if not self._handle:
            raise RuntimeError("lame_init failed")
        library.lame_set_in_samplerate(self._handle, sample_rate)
        library.lame_set_out_samplerate(self._handle, sample_rate)
        library.lame_set_num_channels(self._handle, channels)
        library.lame_set_mode(
            self._handle, self.MODE_MONO if channels == 1 else self.MODE_JOINT_STEREO
        )
        library.lame_set_VBR(self._handle, self.VBR_DEFAULT)
        library.lame_set_VBR_quality(self._handle, float(quality))
        library.lame_set_quality(self._handle, algorithm_quality)
        library.lame_set_bWriteVbrTag(self._handle, 0)
        library.lame_set_disable_reservoir(self._handle, 1)
        if library.lame_init_params(self._handle) < 0:
            raise RuntimeError("libmp3lame refused the parameters")
        self.delay = library.lame_get_encoder_delay(self._handle) + DECODER_DELAY
        self._pending = b""

    def _frames(self, data: bytes) -> list[bytes]:
        frames, self._pending = split_frames(self._pending + data)
        return frames

    def encode(self, pcm: np.ndarray) -> list[bytes]:
        samples = pcm.shape[1]
        left = np.ascontiguousarray(pcm[0], dtype=np.float32)
        right = np.ascontiguousarray(pcm[1 if self.channels > 1 else 0], dtype=np.float32)
        out = ctypes.create_string_buffer(int(1.25 * samples) + 7200)
        written = self._lame.lame_encode_buffer_ieee_float(
            self._handle,
            left.ctypes.data,
            right.ctypes.data,
            samples,
            out,
            len(out),
        )
        if written < 0:
            raise RuntimeError(f"libmp3lame failed to encode ({written})")
        return self._frames(out.raw[:written])

    def flush(self) -> list[bytes]:
        out = ctypes.create_string_buffer(7200)
        written = self._lame.lame_encode_flush(self._handle, out, len(out))
        frames = self._frames(out.raw[: max(written, 0)])
        self._lame.lame_close(self._handle)
        self._handle = None
        return frames


class BundledLameEncoder:
    """libmp3lame as bundled with PyAV."""

    def __init__(self, sample_rate: int, channels: int, quality: int) -> None:
        self.sample_rate = sample_rate
        self.layout = "mono" if channels == 1 else "stereo"
        import av  # only when the system's libmp3lame is missing

        encoder = av.CodecContext.create("libmp3lame", "w")
        assert isinstance(encoder, av.AudioCodecContext)
        encoder.sample_rate = sample_rate
        encoder.layout = self.layout
        encoder.format = "fltp"
        encoder.options = {
            "flags": "+qscale",
            "global_quality": str(quality * FF_QP2LAMBDA),
            "compression_level": str(ALGORITHM_QUALITY),
            "reservoir": "0",
        }
        encoder.open()
        self._encoder = encoder
        self._position = 0
        self.delay = 0

    def _frames(self, packets: list[av.Packet[Any]]) -> list[bytes]:
        if packets and self._position == 0 and not self.delay and packets[0].pts is not None:
            self.delay = -int(packets[0].pts)
        return [bytes(p) for p in packets]

    def encode(self, pcm: np.ndarray) -> list[bytes]:
        import av

        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm, dtype=np.float32), format="fltp", layout=self.layout
        )
        frame.sample_rate = self.sample_rate
        frame.pts = self._position
        frame.time_base = Fraction(1, self.sample_rate)
        packets = list(self._encoder.encode(frame))
        frames = self._frames(packets)
        self._position += pcm.shape[1]
        return frames

    def flush(self) -> list[bytes]:
        return self._frames(list(self._encoder.encode(None)))


def open_mp3_encoder(sample_rate: int, channels: int, quality: int) -> Mp3Encoder:
    """The fastest MP3 encoder this machine has."""
    if lame_library() is not None:
        return LameEncoder(sample_rate, channels, quality)
    return BundledLameEncoder(sample_rate, channels, quality)
