"""Receiving a voice over WebRTC: Opus decoded on the event loop, straight into a callback.

aiortc decodes each received frame on a thread of its own per track (PyAV, stereo) and
hands every frame back to the event loop as a coroutine; a reader task then awaits the
track. That is two thread switches, a loop wake-up and a task step for 20 ms of audio,
times every speaker leg: on a loaded machine it cost more than the decoding itself.
Here each frame that leaves the jitter buffer (``airspace.media.voice_jitter``) is
decoded in place, mono, by libopus, and handed to ``on_audio`` at once; aiortc's decoder
thread is left asleep until the track ends.

A lost packet is never heard as silence: the last one lost before a packet that arrived
is decoded from that packet's in-band FEC (when the sender put it there, as browsers do
once they hear of losses), the ones before it from libopus's concealment, up to
MAX_CONCEALED frames; a longer gap is a pause.
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
from airspace.media.opus_red import RedFormat
from airspace.media.voice_jitter import VoiceFrame, VoiceJitterBuffer

AudioCallback = Callable[[np.ndarray], None]
"""Takes decoded samples: float32 mono at 48 kHz, usually 960 (20 ms)."""

logger = logging.getLogger(__name__)

FRAME_TICKS = 960
"""RTP timestamp units (48 kHz) in the 20 ms frames speakers send."""
MAX_CONCEALED = 10
"""Lost frames (200 ms) recovered or concealed in one gap; a longer gap is a pause."""

# aiortc has no public setting for either; both are checked when a receiver is set up.
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"


class VoiceReceiver:
    """Stands in for aiortc's decoder queue on one receiver. ``put`` is called on the
    event loop with each complete frame (or None when the receiver stops); ``get`` is
    what aiortc's decoder thread waits on, and it only returns at the end, so the track
    still ends as aiortc ends it. ``repair``: recover and conceal lost frames (off only
    to measure what that buys)."""

    def __init__(
        self,
        on_audio: AudioCallback,
        repair: bool = True,
        jitter: VoiceJitterBuffer | None = None,
    ) -> None:
        self.on_audio = on_audio
        self.repair = repair
        self.jitter = jitter
        self._codec: Any = None
        self._decoder = OpusDecoder(SAMPLE_RATE)
        self._stopped = threading.Event()
        self._last_timestamp: int | None = None
        self.dropped = 0
        """Frames not heard: empty, not Opus, or not decodable."""
        self.recovered = 0
        """Lost frames decoded from the next packet's FEC (or concealed by it)."""
        self.concealed = 0
        """Lost frames (and late ones, see ``conceal``) made up by concealment."""
        self.last_packet: bytes | None = None
        """The packet the samples ``on_audio`` is hearing were decoded from (None for
        samples recovered or made up)."""

    def pull(self) -> bool:
        """Decode the next frame the jitter buffer holds now, giving up on any missing
        before it (their audio recovered or concealed): for a room whose clock needs
        this voice's next 20 ms before the wait for a lost packet is over. Returns
        whether there was one."""
        if self.jitter is None or self._codec is None:
            return False
        frame = self.jitter.give_up()
        if frame is None:
            return False
        self.put((self._codec, frame))
        return True

    def expect_red(self, red: RedFormat | None) -> None:
        """Unpack RED packets of this format (None: there are none)."""
        if self.jitter is not None:
            self.jitter.red = red

    def conceal(self, samples: int) -> np.ndarray:
        """``samples`` made up from the voice so far: for a frame the room's clock needs
        before it has arrived."""
        self.concealed += 1
        return self._decoder.conceal(samples)

    def _repair(self, frame: VoiceFrame) -> None:
        lost = min(frame.lost_before, MAX_CONCEALED)
        if self._last_timestamp is None or not lost:
            return
        span = (frame.timestamp - self._last_timestamp) % (1 << 32)
        each = span // (frame.lost_before + 1)
        if not 0 < each <= 5760:  # a jump no lost packets explain: a new stream
            each = FRAME_TICKS
        self.last_packet = None
        for _ in range(lost - 1):
            self.on_audio(self.conceal(each))
        self.on_audio(self._decoder.recover(frame.data, each))
        self.recovered += 1

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:
            self._stopped.set()
            return
        codec, frame = task
        self._codec = codec
        # This runs inside aiortc's receive loop: whatever goes wrong with one frame
        # costs that frame (20 ms), never the connection or the room.
        # RED is unpacked by the jitter buffer: what reaches here is Opus.
        if not frame.data or codec.name.lower() not in ("opus", "red"):
            self.dropped += 1
            return
        try:
            if self.repair and isinstance(frame, VoiceFrame):
                self._repair(frame)
            self._last_timestamp = frame.timestamp
            samples = self._decoder.decode(frame.data)
        except OpusError as error:
            self.dropped += 1
            logger.debug("dropped an undecodable Opus packet: %s", error)
            return
        self.last_packet = frame.data
        try:
            self.on_audio(samples)
        except Exception:
            logger.exception("the audio callback failed on a received frame")
        if self.jitter is not None and self.jitter.overfull():
            self.pull()

    def get(self) -> None:
        self._stopped.wait()


def receive_voice(
    pc: RTCPeerConnection, buffer_packets: int, on_audio: AudioCallback, repair: bool = True
) -> VoiceReceiver:
    """Decode what ``pc`` receives on its one audio transceiver into ``on_audio``,
    holding ``buffer_packets`` packets (20 ms each) to put them back in order (aiortc
    holds 4). A packet later than that, or lost, is recovered from FEC or concealed.

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
    jitter = VoiceJitterBuffer(buffer_packets)
    voice = VoiceReceiver(on_audio, repair, jitter if repair else None)
    setattr(receiver, _JITTER_BUFFER, jitter)
    setattr(receiver, _DECODER_QUEUE, voice)
    return voice
