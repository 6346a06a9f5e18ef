"""Captions: speech recognition on recordings, WebVTT with speaker names, transcripts, search."""
