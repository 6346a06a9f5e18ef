"""Opus's SDP parameters: read, added where missing, merged where present."""

from __future__ import annotations

from airspace.media.opus_sdp import (
    LOSS_PROTECTION,
    allows_dtx,
    asks_for_fec,
    opus_parameters,
    with_opus_parameters,
)

AIORTC_ANSWER = "\r\n".join(
    [
        "v=0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 96 0",
        "a=rtpmap:96 opus/48000/2",
        "a=rtpmap:0 PCMU/8000",
        "",
    ]
)
CHROME_OFFER = "\r\n".join(
    [
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "",
    ]
)


def test_a_browsers_offer_asks_for_fec() -> None:
    assert opus_parameters(CHROME_OFFER) == {"minptime": "10", "useinbandfec": "1"}
    assert asks_for_fec(CHROME_OFFER)
    assert not allows_dtx(CHROME_OFFER)
    assert not asks_for_fec(AIORTC_ANSWER)


def test_the_rooms_answer_gets_an_opus_line_asking_for_fec_and_dtx() -> None:
    answer = with_opus_parameters(AIORTC_ANSWER, LOSS_PROTECTION)
    lines = answer.split("\r\n")
    assert lines[lines.index("a=rtpmap:96 opus/48000/2") + 1] == "a=fmtp:96 useinbandfec=1;usedtx=1"
    assert asks_for_fec(answer)
    assert allows_dtx(answer)
    assert "a=rtpmap:0 PCMU/8000" in lines


def test_present_parameters_are_kept_and_merged() -> None:
    merged = with_opus_parameters(CHROME_OFFER, {"usedtx": "1", "useinbandfec": "1"})
    assert "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1" in merged.split("\r\n")
    assert "a=fmtp:63 111/111" in merged.split("\r\n")  # another codec's line: untouched


def test_sdp_without_opus_is_left_alone() -> None:
    sdp = "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    assert with_opus_parameters(sdp, LOSS_PROTECTION) == sdp
    assert opus_parameters(sdp) == {}
