"""The voice jitter buffer: order restored, a lost packet given up without lasting
delay, late packets dropped, sequence numbers wrapping, and a sender that restarts."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from airspace.media.voice_jitter import VoiceJitterBuffer


def packet(sequence: int) -> RtpPacket:
    sequence %= 1 << 16
    out = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=sequence * 960)
    out._data = f"frame {sequence}".encode()  # type: ignore[attr-defined]
    return out


def feed(buffer: VoiceJitterBuffer, sequences: list[int]) -> list[int | None]:
    """What comes out after each packet: the frame's sequence number, or None."""
    out: list[int | None] = []
    for sequence in sequences:
        key_frame, frame = buffer.add(packet(sequence))
        assert not key_frame
        out.append(None if frame is None else frame.timestamp // 960)
    return out


def test_frames_come_out_in_order_two_packets_behind() -> None:
    assert feed(VoiceJitterBuffer(2), [10, 11, 12, 13, 14]) == [None, None, 10, 11, 12]


def test_reordered_packets_are_put_back_in_order() -> None:
    assert feed(VoiceJitterBuffer(2), [10, 12, 11, 13, 15, 14, 16]) == [
        None,
        None,
        10,
        11,
        12,
        13,
        14,
    ]


def test_a_lost_packet_costs_one_frame_and_no_lasting_delay() -> None:
    buffer = VoiceJitterBuffer(2)
    out = feed(buffer, [10, 11, 12, 14, 15, 16, 17, 18])
    assert out == [None, None, 10, 11, 12, 14, 15, 16]
    assert buffer.lost == 1
    # Still two packets behind the newest: the next packet releases the one two before it.
    assert feed(buffer, [19]) == [17]


def test_a_packet_that_comes_after_its_turn_is_dropped() -> None:
    buffer = VoiceJitterBuffer(1)
    assert feed(buffer, [10, 12, 13, 11, 14]) == [None, 10, 12, None, 13]
    assert (buffer.lost, buffer.late) == (1, 1)


def test_sequence_numbers_wrap_around() -> None:
    sequences = [65533, 65534, 65535, 0, 1, 2]
    assert feed(VoiceJitterBuffer(1), sequences) == [None, 65533, 65534, 65535, 0, 1]


def test_a_sender_that_restarts_its_numbering_is_followed() -> None:
    buffer = VoiceJitterBuffer(1)
    assert feed(buffer, [500, 501, 502]) == [None, 500, 501]
    assert feed(buffer, [40_000, 40_001, 40_002]) == [None, 40_000, 40_001]
    assert feed(buffer, [7, 8, 9]) == [None, 7, 8]
    assert buffer.lost == 0
