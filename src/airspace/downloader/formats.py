"""What ``airspace download`` writes: the formats, and the default file name.

Kept free of imports, so that the command line starts without the downloader's parts.
"""

FORMATS = ("mp3", "m4a", "wav", "opus", "ts")
DEFAULT_TEMPLATE = "%(host)s - %(title)s (%(date)s).%(ext)s"
