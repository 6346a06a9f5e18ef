"""Random identifiers and secrets."""

from __future__ import annotations

import hashlib
import secrets
import string

BASE62_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
SPACE_ID_LENGTH = 13


def new_base62_id(length: int = SPACE_ID_LENGTH) -> str:
    """A random base62 string; 13 characters carry about 77 bits."""
    return "".join(secrets.choice(BASE62_ALPHABET) for _ in range(length))


def is_space_id(value: str) -> bool:
    return len(value) == SPACE_ID_LENGTH and all(ch in BASE62_ALPHABET for ch in value)


def new_secret_token(prefix: str = "") -> str:
    """An unguessable bearer secret, shown to its owner once."""
    return prefix + secrets.token_urlsafe(32)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
