"""API token format: 32 letters and digits, the shape REDCap clients insist on."""

import hashlib
import secrets
import string

TOKEN_LENGTH = 32
TOKEN_ALPHABET = string.ascii_uppercase + string.digits


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def hash_token(token: str) -> str:
    # A token carries ~165 random bits, so a fast hash is enough: no salt or stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    return len(value) == TOKEN_LENGTH and value.isascii() and value.isalnum()
