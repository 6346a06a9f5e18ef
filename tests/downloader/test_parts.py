"""The parts cache: what a kill leaves behind is never mistaken for a part."""

from __future__ import annotations

from pathlib import Path

from airspace.downloader.parts import PartsCache


def test_parts_written_by_several_streams_are_all_found(tmp_path: Path) -> None:
    first = PartsCache(tmp_path, "same")
    second = PartsCache(tmp_path, "same", stream=1)
    first.write(0, b"zero")
    second.write(1, b"one")
    first.close()
    second.close()
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
    cache = PartsCache(tmp_path, "same")
    cache.write(1, b"first")
    cache.close()
    with (tmp_path / "index.tsv").open("a") as index:
        index.write("2")  # killed while listing part 2: "2" without its offset, length
    resumed = PartsCache(tmp_path, "same")
    resumed.write(3, b"third")  # would read "23\t..." had the cut line been kept
    resumed.close()
    again = PartsCache(tmp_path, "same")
    assert not again.has(2)
    assert not again.has(23)
    assert again.read(1) == b"first"
    assert again.read(3) == b"third"
    again.close()


def test_a_listed_part_whose_bytes_were_lost_stays_lost(tmp_path: Path) -> None:
    cache = PartsCache(tmp_path, "same")
    cache.write(1, b"first")
    cache.write(2, b"second")
    cache.close()
    data = tmp_path / "parts.bin"
    data.write_bytes(data.read_bytes()[:5])  # the data file lost part 2's bytes
    resumed = PartsCache(tmp_path, "same")
    assert not resumed.has(2)
    resumed.write(4, b"fourth!")  # now the file is long enough for the old entry again
    resumed.close()
    again = PartsCache(tmp_path, "same")
    assert not again.has(2)
    assert again.read(4) == b"fourth!"
    again.close()
