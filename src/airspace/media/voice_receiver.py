"""Receiving a voice over WebRTC: Opus decoded on the event loop, straight into a callback.

aiortc decodes each received frame on a thread of its own per track (PyAV, stereo) and
hands every frame back to the event loop as a coroutine; a reader task then awaits the
track. That is two thread switches, a loop wake-up and a task step for 20 ms of audio,
times every speaker leg: on a loaded machine it cost more than the decoding itself.
Here each frame that leaves the jitter buffer (``airspace.media.voice_jitter``) is
decoded in place, mono, by libopus, and handed to ``on_audio`` at once; aiortc's decoder
thread is left asleep until the track ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from aiortc import RTCPeerConnection

from airspace.media.constants import SAMPLE_RATE
from airspace.media.libopus import OpusDecoder, OpusError
from airspace.media.voice_jitter import VoiceJitterBuffer

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
        self.dropped = 0
        """Frames not heard: empty, not Opus, or not decodable."""

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:
            self._stopped.set()
            return
        codec, frame = task
        # This runs inside aiortc's receive loop: whatever goes wrong with one frame
        # costs that frame (20 ms), never the connection or the room.
        if not frame.data or codec.name.lower() != "opus":
            self.dropped += 1
            return
        try:
            samples = self._decoder.decode(frame.data)
        except OpusError as error:
            self.dropped += 1
            logger.debug("dropped an undecodable Opus packet: %s", error)
            return
        try:
            self.on_audio(samples)
        except Exception:
            logger.exception("the audio callback failed on a received frame")

    def get(self) -> None:
        self._stopped.wait()


def receive_voice(pc: RTCPeerConnection, buffer_packets: int, on_audio: AudioCallback) -> None:
    """Decode what ``pc`` receives on its one audio transceiver into ``on_audio``,
    holding ``buffer_packets`` packets (20 ms each) to put them back in order (aiortc
    holds 4). A packet later than that, or lost, is heard as 20 ms of silence.

    Call it after the transceiver exists and before the connection is up: after
    ``setRemoteDescription`` for an answer, after ``addTrack`` for an offer."""
    audio = [t for t in pc.getTransceivers() if t.kind == "audio"]
    if len(audio) != 1:
        raise ValueError(f"expected one audio transceiver, found {len(audio)}")
    receiver = audio[0].receiver
    if not all(hasattr(receiver, a) for a in (_JITTER_BUFFER, _DECODER_QUEUE)):
        raise RuntimeError("this aiortc version has no decoder queue to take over")
    if getattr(receiver, _DECODER_THREAD, None) is not None:
        raise RuntimeError("receive_voice() came after the receiver started")
    setattr(receiver, _JITTER_BUFFER, VoiceJitterBuffer(buffer_packets))
    setattr(receiver, _DECODER_QUEUE, _DecodeInPlace(on_audio))
