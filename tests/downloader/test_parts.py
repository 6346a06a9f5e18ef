"""The parts cache: what a kill leaves behind is never mistaken for a part."""

from __future__ import annotations

from pathlib import Path

from airspace.downloader.parts import PartsCache


def store(directory: Path, parts: dict[int, bytes], stream: int = 0) -> None:
    """Write parts as one run of the download would, then stop."""
    cache = PartsCache(directory, "same", stream=stream)
    for sequence, data in parts.items():
        cache.write(sequence, data)
    cache.close()


def test_parts_written_by_several_streams_are_all_found(tmp_path: Path) -> None:
    store(tmp_path, {0: b"zero"})
    store(tmp_path, {1: b"one"}, stream=1)
    reopened = PartsCache(tmp_path, "same")
    assert reopened.read(0) == b"zero"
    assert reopened.read(1) == b"one"
    reopened.close()


def test_another_download_clears_the_cache(tmp_path: Path) -> None:
    cache = PartsCache(tmp_path, "one")
    cache.write(0, b"zero")
    cache.close()
    other = PartsCache(tmp_path, "other")
    assert len(other) == 0
    other.close()


def test_an_index_line_cut_by_a_kill_is_not_completed_by_the_next_run(tmp_path: Path) -> None:
    store(tmp_path, {1: b"first"})
    with (tmp_path / "index.tsv").open("a") as index:
        index.write("2")  # killed while listing part 2: "2" without its offset, length
    store(tmp_path, {3: b"third"})  # would read "23\t..." had the cut line been kept
    again = PartsCache(tmp_path, "same")
    assert not again.has(2)
    assert not again.has(23)
    assert again.read(1) == b"first"
    assert again.read(3) == b"third"
    again.close()


def test_a_listed_part_whose_bytes_were_lost_stays_lost(tmp_path: Path) -> None:
    store(tmp_path, {1: b"first", 2: b"second"})
    data = tmp_path / "parts.bin"
    data.write_bytes(data.read_bytes()[:5])  # the data file lost part 2's bytes
    # Part 4 makes the data file long enough for the old entry of part 2 again.
    store(tmp_path, {4: b"fourth!"})
    again = PartsCache(tmp_path, "same")
    assert not again.has(2)
    assert again.read(4) == b"fourth!"
    again.close()
