from __future__ import annotations

from airspace.captions.recognizer import Word
from airspace.captions.transcript import (
    Cue,
    cues_from_words,
    on_replay_clock,
    podcast_transcript,
    webvtt,
)
from airspace.recordings.replay import Turn


def words(text: str, start: float, step: float = 0.3) -> list[Word]:
    return [
        Word(w, round(start + i * step, 3), round(start + i * step + 0.25, 3))
        for i, w in enumerate(text.split())
    ]


def test_words_go_to_the_speaker_talking_when_they_were_said() -> None:
    turns = [Turn("Alice", "alice", 0.0, 2.0), Turn("Bob <3>", "bob", 2.5, 4.0)]
    heard = words("hello there everyone", 0.2) + words("hi Alice", 2.6)
    cues = cues_from_words(heard, turns)
    assert [(c.speaker, c.body) for c in cues] == [
        ("Alice", "hello there everyone"),
        ("Bob <3>", "hi Alice"),
    ]
    vtt = webvtt(cues)
    assert vtt.startswith("WEBVTT\n\n00:00:00.200 --> 00:00:00.050") is False
    assert "00:00:00.200 --> 00:00:01.050\n<v Alice>hello there everyone\n" in vtt
    assert "<v Bob &lt;3&gt;>hi Alice" in vtt


def test_long_speech_and_pauses_split_cues() -> None:
    turns = [Turn("Alice", None, 0.0, 60.0)]
    heard = words(" ".join(["word"] * 40), 0.0) + words("after a pause", 20.0)
    cues = cues_from_words(heard, turns)
    assert all(c.end - c.start <= 6.0 for c in cues)
    assert cues[-1].body == "after a pause"
    assert len(cues) >= 3


def test_the_start_offset_moves_every_time() -> None:
    cues = [Cue("A", 1.0, 2.0, "before"), Cue("A", 4.0, 6.0, "across"), Cue("B", 9, 10, "x")]
    moved = on_replay_clock(cues, 5.0)
    assert [(c.start, c.end, c.body) for c in moved] == [(0.0, 1.0, "across"), (4.0, 5.0, "x")]
    assert podcast_transcript(moved)["segments"][1] == {
        "speaker": "B",
        "startTime": 4.0,
        "endTime": 5.0,
        "body": "x",
    }
    assert "X-TIMESTAMP-MAP=MPEGTS:450000,LOCAL:00:00:00.000" in webvtt(moved, 450000)
