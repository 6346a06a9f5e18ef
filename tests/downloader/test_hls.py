from __future__ import annotations

import pytest

from airspace.downloader.errors import PlaylistError
from airspace.downloader.hls import is_master, parse_master, parse_media

MEDIA = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:3
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-START:TIME-OFFSET=1.250,PRECISE=YES
#EXT-X-PROGRAM-DATE-TIME:2026-11-20T21:00:00.000Z
#EXTINF:2.005,
seg41.ts?sig=abc
#EXT-X-DISCONTINUITY
#EXTINF:1.984,
/abs/seg42.ts
#EXT-X-BYTERANGE:1000@0
#EXTINF:2.0,
all.ts
#EXT-X-BYTERANGE:500
#EXTINF:2.0,
all.ts
#EXT-X-ENDLIST
"""


def test_media_playlist() -> None:
    playlist = parse_media(MEDIA, "https://cdn.example/space/v/index.m3u8")
    assert [s.sequence for s in playlist.segments] == [41, 42, 43, 44]
    assert playlist.segments[0].url == "https://cdn.example/space/v/seg41.ts?sig=abc"
    assert playlist.segments[1].url == "https://cdn.example/abs/seg42.ts"
    assert playlist.segments[0].program_date_time is not None
    assert playlist.segments[1].discontinuity
    assert playlist.segments[2].byte_range == (0, 1000)
    assert playlist.segments[3].byte_range == (1000, 500)
    assert playlist.start_offset == 1.25
    assert playlist.ended
    assert not playlist.is_live
    assert playlist.duration == pytest.approx(7.989)


def test_live_playlist_has_no_end() -> None:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n"
    assert parse_media(text, "http://h/p.m3u8").is_live


def test_master_playlist_picks_best_audio() -> None:
    text = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="main",DEFAULT=YES,URI="audio/main.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=64000,AUDIO="aud"
low.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=128000,AUDIO="aud"
high.m3u8
"""
    assert is_master(text)
    master = parse_master(text, "https://h/x/master.m3u8")
    assert master.best_audio_url() == "https://h/x/audio/main.m3u8"
    plain = parse_master(text.replace(',AUDIO="aud"', ""), "https://h/x/master.m3u8")
    assert plain.best_audio_url() == "https://h/x/high.m3u8"


@pytest.mark.parametrize(
    "text",
    ["<html>", "#EXTM3U\nseg.ts\n", "#EXTM3U\n#EXTINF:abc,\nseg.ts\n"],
)
def test_bad_playlists(text: str) -> None:
    with pytest.raises(PlaylistError):
        parse_media(text, "http://h/p.m3u8")
