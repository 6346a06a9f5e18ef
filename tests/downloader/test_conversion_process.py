"""What crosses the pipe to a conversion process: records batched into messages, read
back in order, also by a reader that stopped part way and goes on."""

from __future__ import annotations

import multiprocessing

from airspace.downloader.conversion_process import _END, _FILE, _PART, _Records


def part(offset: int, length: int) -> bytes:
    return _PART.pack(b"P", offset, length)


def file(path: str) -> bytes:
    return _FILE.pack(b"F", len(path.encode())) + path.encode()


def test_records_in_batches_are_read_in_order_and_a_reader_goes_on_where_it_stopped() -> None:
    receiving, sending = multiprocessing.Pipe(duplex=False)
    sending.send_bytes(file("/tmp/parts.1.bin") + part(0, 10) + part(10, 7))
    sending.send_bytes(part(17, 3) + file("/tmp/parts.2.bin") + part(0, 5) + _END)
    records = _Records(receiving)
    first = []
    for record in records:
        first.append(record)
        if len(first) == 2:
            break  # as a converter that failed part way does
    assert first == ["/tmp/parts.1.bin", (0, 10)]
    assert not records.ended
    assert list(records) == [(10, 7), (17, 3), "/tmp/parts.2.bin", (0, 5)]
    assert records.ended
    assert list(records) == []  # nothing is read past the end
