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


def test_each_frame_says_how_many_were_lost_just_before_it() -> None:
    buffer = VoiceJitterBuffer(2)
    frames = [buffer.add(packet(s))[1] for s in [10, 11, 14, 15, 16, 17]]
    released = [(f.timestamp // 960, getattr(f, "lost_before", None)) for f in frames if f]
    assert released == [(10, 0), (11, 0), (14, 2), (15, 0)]


def test_a_listener_that_cannot_wait_takes_the_next_held_frame_now() -> None:
    buffer = VoiceJitterBuffer(2)
    feed(buffer, [10, 11, 12])  # 10 released; 11 and 12 held
    assert buffer.give_up().timestamp // 960 == 11  # type: ignore[union-attr]
    feed(buffer, [14])  # 13 is missing, 14 waits behind it
    given = buffer.give_up()
    assert given is not None
    assert (given.timestamp // 960, given.lost_before) == (12, 0)
    given = buffer.give_up()
    assert given is not None
    assert (given.timestamp // 960, given.lost_before) == (14, 1)
    assert buffer.give_up() is None
    assert feed(buffer, [13]) == [None]  # too late now
    assert buffer.late == 1
