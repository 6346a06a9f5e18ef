"""Profile pictures: an uploaded image, made square and small on the server, or the
person's initials on a colour of their own when they have none."""

from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from airspace.accounts.models import User
from airspace.errors import Invalid
from airspace.storage.interfaces import Storage

SIZE = 256
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
"""Larger images (a decompression bomb, or a panorama) are refused before decoding."""
JPEG_QUALITY = 85
ACCEPTED = ("JPEG", "PNG", "GIF", "WEBP")
COLOURS = (
    (104, 70, 245),
    (23, 128, 74),
    (201, 51, 58),
    (0, 110, 160),
    (150, 80, 10),
    (120, 60, 140),
)
"""Backgrounds of drawn initials, all dark enough for white letters."""


def avatar_key(user: User) -> str:
    return f"avatars/{user.id}/{user.avatar_version}.jpg"


def square_picture(data: bytes) -> bytes:
    """``data`` (JPEG, PNG, GIF or WebP) as a square JPEG SIZE pixels wide, cropped to its centre,
    turned the way the camera held it, metadata (location...) left behind."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(f"the picture is larger than {MAX_UPLOAD_BYTES // 1048576} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            if opened.format not in ACCEPTED:
                raise Invalid("use a JPEG, PNG, GIF or WebP picture")
            if opened.width * opened.height > MAX_PIXELS:
                raise Invalid("the picture has too many pixels; use a smaller one")
            image: Image.Image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning, SyntaxError):
        raise Invalid("that file is not a picture Airspace can read") from None
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    square = ImageOps.fit(image.convert("RGB"), (SIZE, SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def initials_of(name: str) -> str:
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0].upper() for w in words[:2]) or "?"


def drawn_avatar(user: User) -> bytes:
    """The initials of ``user`` on a colour that is always theirs (from their username)."""
    pick = int.from_bytes(hashlib.sha256(user.username_key.encode()).digest()[:2], "big")
    image = Image.new("RGB", (SIZE, SIZE), COLOURS[pick % len(COLOURS)])
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=SIZE * 2 // 5)
    draw.text(
        (SIZE / 2, SIZE / 2), initials_of(user.display_name), font=font, fill="white", anchor="mm"
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def set_picture(storage: Storage, user: User, data: bytes) -> None:
    """Make ``data`` the user's picture (the old one is deleted)."""
    picture = square_picture(data)
    old = avatar_key(user) if user.avatar_version else None
    user.avatar_version += 1
    storage.put(avatar_key(user), picture, "image/jpeg")
    if old is not None:
        storage.delete(old)


def remove_picture(storage: Storage, user: User) -> None:
    if user.avatar_version:
        storage.delete(avatar_key(user))
        user.avatar_version = 0


def picture_of(storage: Storage, user: User) -> tuple[bytes, str]:
    """The user's picture and its media type: the uploaded one, or drawn initials."""
    if user.avatar_version:
        return storage.get(avatar_key(user)), "image/jpeg"
    return drawn_avatar(user), "image/png"
