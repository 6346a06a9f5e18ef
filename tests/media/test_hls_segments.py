from __future__ import annotations

from datetime import UTC, datetime

from airspace.downloader.hls import parse_media
from airspace.downloader.segments import read_segment
from airspace.media.adts import skip_id3, transport_stream_timestamp
from airspace.media.hls_segments import (
    PlaylistEntry,
    media_playlist,
    mpegts_segment,
    packed_audio_segment,
    segment_frames,
)
from tests.audio import SAMPLE_RATE, aac_frames, tone_bursts


def test_segments_cut_at_frames_without_drift() -> None:
    frames = aac_frames(tone_bursts(61.0))
    groups = segment_frames(frames, 2.0, SAMPLE_RATE)
    assert sum(len(g) for g in groups) == len(frames)
    assert {len(g) for g in groups[:-1]} <= {93, 94}
    boundary = sum(len(g) for g in groups[:15]) * 1024 / SAMPLE_RATE
    assert abs(boundary - 30.0) < 1024 / SAMPLE_RATE


def test_both_segment_kinds_carry_the_same_frames_and_timestamps() -> None:
    frames = aac_frames(tone_bursts(4.0))
    first_sample = 94 * 1024 * 7
    packed = packed_audio_segment(frames[:94], first_sample)
    tag, _ = skip_id3(packed)
    assert transport_stream_timestamp(tag) == first_sample * 90_000 // SAMPLE_RATE
    assert read_segment(packed).frames == frames[:94]
    assert read_segment(mpegts_segment(frames[:94], first_sample)).frames == frames[:94]


def test_playlist_round_trip() -> None:
    moment = datetime(2026, 11, 21, 12, tzinfo=UTC)
    text = media_playlist(
        [PlaylistEntry("a.ts", 2.005, moment), PlaylistEntry("b.ts", 1.984)],
        media_sequence=7,
        vod=True,
        start_offset=0.5,
    )
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T12:00:00.000Z" in text
    playlist = parse_media(text, "https://h/space/index.m3u8")
    assert [s.sequence for s in playlist.segments] == [7, 8]
    assert playlist.segments[0].program_date_time == moment
    assert playlist.start_offset == 0.5
    assert playlist.ended


def test_a_master_playlist_written_reads_back_with_its_subtitles() -> None:
    from airspace.downloader.hls import parse_master
    from airspace.media.hls_segments import SubtitlesEntry, master_playlist

    text = master_playlist("replay.m3u8", 72_000, "mp4a.40.2", SubtitlesEntry("captions.m3u8"))
    parsed = parse_master(text, "https://example.org/m/x/")
    [variant] = parsed.variants
    assert (variant.url, variant.bandwidth, variant.codecs) == (
        "https://example.org/m/x/replay.m3u8",
        72_000,
        "mp4a.40.2",
    )
    [subtitles] = parsed.renditions
    assert (subtitles.kind, subtitles.group, subtitles.url, subtitles.default) == (
        "SUBTITLES",
        "captions",
        "https://example.org/m/x/captions.m3u8",
        True,
    )
