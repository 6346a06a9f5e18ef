"""Media: audio constants, AAC framing, HLS segment muxing."""
