"""Cover art: a square PNG with the title and host drawn on it, drawn once per title and
host in a process."""

from __future__ import annotations

import io

from PIL import Image

from airspace.media.cover import SIZE, cover_art


def test_the_cover_is_a_square_png_that_depends_on_title_and_host() -> None:
    art = cover_art("Cooking with the moon", "Alice")
    with Image.open(io.BytesIO(art)) as image:
        assert (image.format, image.size) == ("PNG", (SIZE, SIZE))
    assert cover_art("Cooking with the sun", "Alice") != art
    assert cover_art("Cooking with the moon", "Bob") != art


def test_the_same_cover_is_drawn_once() -> None:
    cover_art.cache_clear()
    first = cover_art("A long talk about tides", "Carol")
    again = cover_art("A long talk about tides", "Carol")
    assert again is first
    assert cover_art.cache_info().hits == 1
