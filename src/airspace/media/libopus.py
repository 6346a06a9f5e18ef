"""libopus called directly: one 20 ms voice frame in, one packet out, and back.

A room encodes one Opus stream per speaker and decodes one from each, 50 times a
second. Through PyAV every frame also built an AVFrame, an AVPacket and their Python
objects, about a third on top of the codec's own work; here a frame is one C call on
buffers made once. The library is the system's libopus, or else the copy that PyAV's
wheel carries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from pathlib import Path

import numpy as np

APPLICATION_VOIP = 2048
_SET_BITRATE = 4002
_SET_COMPLEXITY = 4010
_SET_INBAND_FEC = 4012
_SET_PACKET_LOSS_PERC = 4014
_SET_DTX = 4016
_MAX_PACKET_BYTES = 1500
_MAX_FRAME_SAMPLES = 5760
"""120 ms at 48 kHz, the longest an Opus packet can hold."""


def is_dtx(packet: bytes) -> bool:
    """Whether ``packet`` is what a DTX encoder gives in silence (nothing to send)."""
    return len(packet) <= 2


class OpusError(RuntimeError):
    """libopus refused a call (its own message)."""


@functools.cache
def _library() -> ctypes.CDLL:
    candidates: list[str] = []
    found = ctypes.util.find_library("opus")
    if found:
        candidates.append(found)
    try:
        import av

        bundled = Path(av.__file__).resolve().parent.parent / "av.libs"
        candidates += sorted(str(p) for p in bundled.glob("libopus*.so*"))
    except ImportError:  # pragma: no cover - av is a dependency
        pass
    for candidate in candidates:
        try:
            return _declare(ctypes.CDLL(candidate))
        except OSError:
            continue
    raise OpusError("libopus was not found (install libopus0, or PyAV's wheel)")


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    c_int, c_int32, c_void_p = ctypes.c_int, ctypes.c_int32, ctypes.c_void_p
    lib.opus_encoder_create.restype = c_void_p
    lib.opus_encoder_create.argtypes = [c_int32, c_int, c_int, ctypes.POINTER(c_int)]
    lib.opus_encoder_destroy.argtypes = [c_void_p]
    lib.opus_encoder_ctl.restype = c_int
    lib.opus_encoder_ctl.argtypes = [c_void_p, c_int]  # then the request's value (variadic)
    lib.opus_encode_float.restype = c_int32
    lib.opus_encode_float.argtypes = [c_void_p, c_void_p, c_int, c_void_p, c_int32]
    lib.opus_decoder_create.restype = c_void_p
    lib.opus_decoder_create.argtypes = [c_int32, c_int, ctypes.POINTER(c_int)]
    lib.opus_decoder_destroy.argtypes = [c_void_p]
    lib.opus_decode_float.restype = c_int
    lib.opus_decode_float.argtypes = [c_void_p, c_void_p, c_int32, c_void_p, c_int, c_int]
    lib.opus_strerror.restype = ctypes.c_char_p
    lib.opus_strerror.argtypes = [c_int]
    return lib


def _check(code: int) -> int:
    if code < 0:
        message = _library().opus_strerror(code)
        raise OpusError(message.decode() if message else f"libopus error {code}")
    return code


class OpusEncoder:
    """A mono libopus encoder: float32 frames of 2.5-60 ms in, one packet each out."""

    def __init__(
        self,
        sample_rate: int,
        bit_rate: int,
        application: int = APPLICATION_VOIP,
        complexity: int = 10,
    ) -> None:
        lib = _library()
        error = ctypes.c_int()
        handle = lib.opus_encoder_create(sample_rate, 1, application, ctypes.byref(error))
        _check(error.value)
        self._lib = lib
        self._handle = ctypes.c_void_p(handle)
        self._out = ctypes.create_string_buffer(_MAX_PACKET_BYTES)
        _check(lib.opus_encoder_ctl(self._handle, _SET_BITRATE, ctypes.c_int32(bit_rate)))
        _check(lib.opus_encoder_ctl(self._handle, _SET_COMPLEXITY, ctypes.c_int32(complexity)))

    def set_loss_protection(self, expected_loss_percent: int) -> None:
        """In-band FEC for a path losing about ``expected_loss_percent`` % of packets:
        each packet then also carries a coarse copy of the one before (what a receiver
        decodes when that one is lost); 0 turns it off."""
        percent = max(0, min(100, expected_loss_percent))
        lib, handle = self._lib, self._handle
        _check(lib.opus_encoder_ctl(handle, _SET_INBAND_FEC, ctypes.c_int32(1 if percent else 0)))
        _check(lib.opus_encoder_ctl(handle, _SET_PACKET_LOSS_PERC, ctypes.c_int32(percent)))

    def set_bit_rate(self, bit_rate: int) -> None:
        _check(self._lib.opus_encoder_ctl(self._handle, _SET_BITRATE, ctypes.c_int32(bit_rate)))

    def set_dtx(self, on: bool) -> None:
        """Discontinuous transmission: in silence the encoder gives packets of at most
        two bytes (``is_dtx``), which need not be sent but every 400 ms."""
        _check(self._lib.opus_encoder_ctl(self._handle, _SET_DTX, ctypes.c_int32(int(on))))

    def encode(self, pcm: np.ndarray) -> bytes:
        """One packet for ``pcm`` (float32 mono in [-1, 1]; a length Opus allows)."""
        samples = np.ascontiguousarray(pcm, dtype=np.float32)
        size = self._lib.opus_encode_float(
            self._handle, samples.ctypes.data, len(samples), self._out, _MAX_PACKET_BYTES
        )
        return ctypes.string_at(self._out, _check(size))

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            self._lib.opus_encoder_destroy(handle)


class OpusDecoder:
    """A mono libopus decoder: packets in, float32 samples out (a stereo packet is
    mixed down by libopus)."""

    def __init__(self, sample_rate: int) -> None:
        lib = _library()
        error = ctypes.c_int()
        handle = lib.opus_decoder_create(sample_rate, 1, ctypes.byref(error))
        _check(error.value)
        self._lib = lib
        self._handle = ctypes.c_void_p(handle)
        self._out = np.zeros(_MAX_FRAME_SAMPLES, dtype=np.float32)
        self._out_pointer = self._out.ctypes.data

    def decode(self, packet: bytes) -> np.ndarray:
        """The samples of one packet (a new array). Raises OpusError on a corrupt one."""
        samples = self._lib.opus_decode_float(
            self._handle, packet, len(packet), self._out_pointer, _MAX_FRAME_SAMPLES, 0
        )
        return self._out[: _check(samples)].copy()

    def recover(self, next_packet: bytes, samples: int) -> np.ndarray:
        """The ``samples`` before ``next_packet``, which were lost: from the copy FEC put
        in it, else concealed. Decode ``next_packet`` itself afterwards."""
        got = self._lib.opus_decode_float(
            self._handle, next_packet, len(next_packet), self._out_pointer, samples, 1
        )
        return self._out[: _check(got)].copy()

    def conceal(self, samples: int) -> np.ndarray:
        """``samples`` of libopus's packet-loss concealment: the voice carried on from
        what came before, fading out over repeated losses."""
        got = self._lib.opus_decode_float(self._handle, None, 0, self._out_pointer, samples, 0)
        return self._out[: _check(got)].copy()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            self._lib.opus_decoder_destroy(handle)
