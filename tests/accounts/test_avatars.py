"""Profile pictures: uploads made square and small on the server, initials otherwise,
and a bio; over the API and on the profile page."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from airspace.accounts.avatars import SIZE, initials_of, square_picture
from airspace.errors import Invalid
from tests.conftest import register


def picture(width: int, height: int, kind: str = "PNG", mode: str = "RGBA") -> bytes:
    image = Image.new(mode, (width, height), (200, 30, 30, 255) if mode == "RGBA" else 1)
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_an_upload_is_cropped_to_a_small_square_jpeg() -> None:
    wide = opened(square_picture(picture(900, 300)))
    assert (wide.format, wide.size) == ("JPEG", (SIZE, SIZE))
    assert wide.getpixel((SIZE // 2, SIZE // 2))[0] > 180  # the red survived


def test_a_photo_is_turned_the_way_the_camera_held_it() -> None:
    photo = Image.new("RGB", (400, 200), (0, 0, 255))
    photo.paste((255, 255, 0), (0, 0, 200, 200))  # yellow on the left, blue on the right
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90° clockwise to show
    out = io.BytesIO()
    photo.save(out, format="JPEG", exif=exif)
    turned = opened(square_picture(out.getvalue()))
    top, bottom = turned.getpixel((SIZE // 2, 10)), turned.getpixel((SIZE // 2, SIZE - 10))
    assert top[2] < 100 < bottom[2]  # yellow on top now, blue below


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a picture at all", "not a picture"),
        (picture(10, 10, "BMP", "RGB"), "JPEG, PNG, GIF or WebP"),
        (picture(10_000, 5_000, "PNG", "1"), "too many pixels"),
    ],
)
def test_what_is_not_a_usable_picture_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        square_picture(data)


def test_initials_come_from_the_first_two_words() -> None:
    assert initials_of("Hana Moss") == "HM"
    assert initials_of("ada") == "A"
    assert initials_of("  ") == "?"


def test_upload_show_and_remove_a_picture_and_write_a_bio(client: TestClient) -> None:
    hana = register(client, "hana")
    drawn = client.get("/@hana/avatar")
    assert drawn.headers["content-type"] == "image/png"
    assert opened(drawn.content).size == (SIZE, SIZE)

    sent = client.put(
        "/api/v1/me/avatar",
        content=picture(600, 400),
        headers={**hana, "Content-Type": "image/png"},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["avatar_url"] == "/@hana/avatar?v=1"
    shown = client.get("/@hana/avatar?v=1")
    assert shown.headers["content-type"] == "image/jpeg"
    assert "immutable" in shown.headers["cache-control"]
    assert opened(shown.content).size == (SIZE, SIZE)

    refused = client.put("/api/v1/me/avatar", content=b"GIF89a nonsense", headers=hana)
    assert refused.status_code == 422
    assert refused.json()["detail"] == "that file is not a picture Airspace can read"

    client.patch("/api/v1/me", json={"bio": "Tides  and\tweather"}, headers=hana)
    profile = client.get("/@hana").text
    assert 'src="/@hana/avatar?v=1"' in profile
    assert '<p class="bio">Tides and weather</p>' in profile  # white space made one

    removed = client.delete("/api/v1/me/avatar", headers=hana)
    assert removed.json()["avatar_url"] == "/@hana/avatar?v=0"
    assert client.get("/@hana/avatar").headers["content-type"] == "image/png"
