"""Redundant audio (RED, RFC 2198) for Opus: each packet also carries the one sent
before it, whole, as Chrome sends it when ``audio/red`` is preferred (Meet, Jitsi and
mediasoup rely on it).

Opus's in-band FEC is a coarse copy of the previous frame inside the next packet; when
two packets in a row are lost, the first of them can only be concealed. At 5 % random
loss those few concealed frames cost most of the PESQ a lossy path loses
(``bench/network.py``). With RED, packet n+1 carries packet n whole, and packet n carries
the FEC of n-1: a single loss is restored exactly, and of two lost in a row the second
is restored exactly and the first from FEC. It doubles the voice's bit rate (to about
100 kb/s), which a phone's uplink carries easily.

A side that puts ``red/48000/2`` first among its audio codecs asks to receive RED;
aiortc then sends with it too (it sends with the first negotiated codec), so both
directions are packed here (``RedPacker``) and unpacked by the jitter buffer
(``split_red``, ``airspace.media.voice_jitter``).

aiortc knows no ``audio/red``: ``teach_aiortc_red`` adds it to aiortc's codec list
(after its own, so nobody gets it unasked) and lets aiortc's sender pass RED payloads
made here through as it passes ready-made Opus packets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiortc import RTCRtpCodecCapability, RTCRtpCodecParameters, rtcrtpsender
from aiortc.codecs import CODECS
from aiortc.codecs import get_encoder as _aiortc_encoder
from aiortc.codecs.base import Encoder
from aiortc.codecs.opus import OpusEncoder

RED_MIME = "audio/red"
RED_PAYLOAD_TYPE = 63
"""Chrome's own number for it, used in offers Airspace makes."""
MAX_TIMESTAMP_OFFSET = (1 << 14) - 1
"""An older packet than this (341 ms at 48 kHz) cannot be carried (14 bits)."""
MAX_BLOCK_BYTES = (1 << 10) - 1
"""Nor a bigger one (10 bits)."""

RED_CODEC = RTCRtpCodecParameters(
    mimeType=RED_MIME, clockRate=48_000, channels=2, payloadType=RED_PAYLOAD_TYPE
)
RED_CAPABILITY = RTCRtpCodecCapability(mimeType=RED_MIME, clockRate=48_000, channels=2)


class MalformedRed(ValueError):
    """A RED payload whose block headers do not fit its length."""


@dataclass(frozen=True)
class RedBlock:
    data: bytes
    timestamp_offset: int
    """RTP ticks (48 kHz) before the packet's own timestamp."""
    payload_type: int
    """The codec of ``data`` (Opus's payload type, from a sender that follows the SDP)."""


@dataclass(frozen=True)
class RedPayload:
    primary: bytes
    redundant: tuple[RedBlock, ...]
    """Oldest first, as they are packed."""
    primary_payload_type: int


@dataclass(frozen=True)
class RedFormat:
    """The payload types of RED and of the Opus it carries, as one side's SDP gives them."""

    red: int
    opus: int


def split_red(payload: bytes) -> RedPayload:
    """The blocks of one RED payload (RFC 2198 section 3)."""
    headers: list[tuple[int, int, int]] = []
    at = 0
    while True:
        if at >= len(payload):
            raise MalformedRed("RED payload ends inside its headers")
        if not payload[at] & 0x80:
            primary_payload_type = payload[at]
            at += 1  # the primary block's 1-byte header
            break
        if at + 4 > len(payload):
            raise MalformedRed("RED payload ends inside a block header")
        word = int.from_bytes(payload[at + 1 : at + 4], "big")
        headers.append((payload[at] & 0x7F, word >> 10, word & 0x3FF))
        at += 4
    blocks: list[RedBlock] = []
    for payload_type, offset, length in headers:
        if at + length > len(payload):
            raise MalformedRed("a RED block runs past the payload")
        blocks.append(RedBlock(payload[at : at + length], offset, payload_type))
        at += length
    return RedPayload(payload[at:], tuple(blocks), primary_payload_type)


class RedPacker:
    """Packs each Opus packet with the one sent before it (when that one fits)."""

    def __init__(self, opus_payload_type: int) -> None:
        self.opus_payload_type = opus_payload_type
        self._previous: tuple[bytes, int] | None = None

    def pack(self, packet: bytes, timestamp: int) -> bytes:
        """The RED payload for ``packet`` sent with RTP ``timestamp`` (48 kHz ticks)."""
        primary_header = bytes([self.opus_payload_type])
        payload = primary_header + packet
        if self._previous is not None:
            previous, previous_timestamp = self._previous
            offset = (timestamp - previous_timestamp) % (1 << 32)
            if previous and 0 < offset <= MAX_TIMESTAMP_OFFSET and len(previous) <= MAX_BLOCK_BYTES:
                word = (offset << 10) | len(previous)
                header = bytes([0x80 | self.opus_payload_type]) + word.to_bytes(3, "big")
                payload = header + primary_header + previous + packet
        self._previous = (packet, timestamp)
        return payload


# --- SDP: who asks for RED, and with which Opus payload type --------------------------

_RTPMAP = re.compile(r"^a=rtpmap:(\d+) ([^/\s]+)/48000", re.I)
_AUDIO_LINE = re.compile(r"^m=audio \S+ \S+ (.*)$")


def _payload_types(sdp: str, encoding: str) -> list[str]:
    return [
        found.group(1)
        for line in sdp.split("\r\n")
        if (found := _RTPMAP.match(line)) and found.group(2).lower() == encoding
    ]


def _first_audio_payload_type(sdp: str) -> str | None:
    for line in sdp.split("\r\n"):
        found = _AUDIO_LINE.match(line)
        if found:
            formats = found.group(1).split()
            return formats[0] if formats else None
    return None


def red_format(sdp: str) -> RedFormat | None:
    """RED's and Opus's payload types in ``sdp`` when it offers or accepts RED over Opus."""
    red, opus = _payload_types(sdp, "red"), _payload_types(sdp, "opus")
    return RedFormat(int(red[0]), int(opus[0])) if red and opus else None


def red_packer_for(answer_sdp: str) -> RedPacker | None:
    """A packer when the negotiated audio codecs (an answer's) put RED first, which is
    what aiortc then sends with; None when it sends plain Opus."""
    negotiated = red_format(answer_sdp)
    if negotiated is None or _first_audio_payload_type(answer_sdp) != str(negotiated.red):
        return None
    return RedPacker(negotiated.opus)


def with_red_parameters(sdp: str) -> str:
    """``sdp`` with RED's format line saying it carries Opus (``a=fmtp:63 111/111``),
    which aiortc does not write."""
    red, opus = _payload_types(sdp, "red"), _payload_types(sdp, "opus")
    if not red or not opus:
        return sdp
    fmtp = f"a=fmtp:{red[0]} {opus[0]}/{opus[0]}"
    lines = [line for line in sdp.split("\r\n") if not line.startswith(f"a=fmtp:{red[0]} ")]
    at = lines.index(next(line for line in lines if line.startswith(f"a=rtpmap:{red[0]} ")))
    lines.insert(at + 1, fmtp)
    return "\r\n".join(lines)


def without_red(sdp: str) -> str:
    """``sdp`` with RED taken out of what it offers."""
    red = _payload_types(sdp, "red")
    if not red:
        return sdp
    number = red[0]
    lines: list[str] = []
    for line in sdp.split("\r\n"):
        if line.startswith((f"a=rtpmap:{number} ", f"a=fmtp:{number} ", f"a=rtcp-fb:{number} ")):
            continue
        found = _AUDIO_LINE.match(line)
        if found:
            kept = [f for f in found.group(1).split() if f != number]
            line = line[: found.start(1)] + " ".join(kept)
        lines.append(line)
    return "\r\n".join(lines)


# --- aiortc: RED among its codecs, and sent as it is ----------------------------------


def _encoder(codec: RTCRtpCodecParameters) -> Encoder:
    if codec.mimeType.lower() == RED_MIME:
        return OpusEncoder()  # only its pack() is used: ready payloads go out as they are
    return _aiortc_encoder(codec)


def teach_aiortc_red() -> None:
    """Let this process's aiortc negotiate and send RED: add it to aiortc's audio codecs
    (after its own, so nobody gets it unasked) and have its senders pass RED payloads
    through. aiortc keeps both process-wide, so this is too; calling it again changes
    nothing. The room engine and ``SpeakerPeer`` call it before they negotiate."""
    if not any(codec.mimeType.lower() == RED_MIME for codec in CODECS["audio"]):
        CODECS["audio"].append(RED_CODEC)
    rtcrtpsender.get_encoder = _encoder  # type: ignore[attr-defined]
