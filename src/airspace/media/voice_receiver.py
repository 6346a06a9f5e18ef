"""Receiving a voice over WebRTC: Opus decoded on the event loop, straight into a callback.

aiortc decodes each received frame on a thread of its own per track (PyAV, stereo) and
hands every frame back to the event loop as a coroutine; a reader task then awaits the
track. That is two thread switches, a loop wake-up and a task step for 20 ms of audio,
times every speaker leg: on a loaded machine it cost more than the decoding itself.
Here each frame that leaves the jitter buffer is decoded in place, mono, by libopus, and
handed to ``on_audio`` at once; aiortc's decoder thread is left asleep until the track
ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from aiortc import RTCPeerConnection
from aiortc.jitterbuffer import JitterBuffer

from airspace.media.constants import SAMPLE_RATE
from airspace.media.libopus import OpusDecoder, OpusError

AudioCallback = Callable[[np.ndarray], None]
"""Takes decoded samples: float32 mono at 48 kHz, usually 960 (20 ms)."""

logger = logging.getLogger(__name__)

# aiortc has no public setting for either; both are checked when a receiver is set up.
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"


class _DecodeInPlace:
    """Stands in for aiortc's decoder queue on one receiver. ``put`` is called on the
    event loop with each complete frame (or None when the receiver stops); ``get`` is
    what aiortc's decoder thread waits on, and it only returns at the end, so the track
    still ends as aiortc ends it."""

    def __init__(self, on_audio: AudioCallback) -> None:
        self.on_audio = on_audio
        self._decoder = OpusDecoder(SAMPLE_RATE)
        self._stopped = threading.Event()
        self.corrupt = 0

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:
            self._stopped.set()
            return
        _codec, frame = task
        try:
            samples = self._decoder.decode(frame.data)
        except OpusError as error:  # a bad packet costs 20 ms, never the room
            self.corrupt += 1
            logger.debug("dropped an undecodable Opus packet: %s", error)
            return
        self.on_audio(samples)

    def get(self) -> None:
        self._stopped.wait()


def receive_voice(pc: RTCPeerConnection, buffer_packets: int, on_audio: AudioCallback) -> None:
    """Decode what ``pc`` receives on its audio transceivers into ``on_audio``, holding
    ``buffer_packets`` packets (20 ms each) before decoding instead of aiortc's fixed 4.
    Reordering within the buffer still works; a packet later than it is dropped (heard as
    20 ms of silence).

    Call it after the transceivers exist and before the connection is up: after
    ``setRemoteDescription`` for an answer, after ``addTrack`` for an offer."""
    for transceiver in pc.getTransceivers():
        if transceiver.kind != "audio":
            continue
        receiver = transceiver.receiver
        if not all(hasattr(receiver, a) for a in (_JITTER_BUFFER, _DECODER_QUEUE)):
            raise RuntimeError("this aiortc version has no decoder queue to take over")
        if getattr(receiver, _DECODER_THREAD, None) is not None:
            raise RuntimeError("receive_voice() came after the receiver started")
        setattr(receiver, _JITTER_BUFFER, JitterBuffer(capacity=16, prefetch=buffer_packets))
        setattr(receiver, _DECODER_QUEUE, _DecodeInPlace(on_audio))
