from __future__ import annotations

from airspace.ids import BASE62_ALPHABET, is_space_id, new_base62_id


def test_space_ids_are_13_base62_characters() -> None:
    ids = {new_base62_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 13 and set(i) <= set(BASE62_ALPHABET) for i in ids)
    assert all(is_space_id(i) for i in ids)
    # Every character of the alphabet turns up: the ids use all 62 symbols.
    assert set("".join(ids)) == set(BASE62_ALPHABET)


def test_is_space_id_rejects_other_strings() -> None:
    assert not is_space_id("short")
    assert not is_space_id("abcdefghijkl-")
    assert not is_space_id("abcdefghijklmn")
