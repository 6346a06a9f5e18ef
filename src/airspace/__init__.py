"""Airspace: live audio Spaces that are recorded, replayed, captioned, clipped and downloaded."""

__version__ = "0.1.0"
