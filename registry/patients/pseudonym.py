"""Pseudonyms: the only name a patient has in the registry.

`HMAC-SHA256(key, site_code + ":" + local_id)`, shortened to 10 Crockford base-32 characters
(50 bits) behind the site code, e.g. `TUMS-4F7KQ-2ZD9X`. The same local ID at the same site always
gives the same pseudonym, so a re-enrolment is recognised; without the key a pseudonym cannot be
traced back to the local ID. With 50 bits, the chance that two of a site's 100,000 patients share
a pseudonym is about 1 in 200,000.
"""

import hashlib
import hmac

# Crockford's alphabet: no I, L, O or U, so a code read aloud or copied by hand stays unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_CHARACTERS = 10


def normalise_local_id(local_id: str) -> str:
    """Hospital IDs are compared without surrounding or inner spaces, and case-insensitively."""
    return "".join(local_id.split()).upper()


def make_pseudonym(key: str, site_code: str, local_id: str) -> str:
    normalised = normalise_local_id(local_id)
    if not normalised:
        raise ValueError("local_id is empty")
    digest = hmac.new(key.encode(), f"{site_code}:{normalised}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * _CODE_CHARACTERS)
    code = "".join(
        _ALPHABET[(number >> (5 * position)) & 31] for position in reversed(range(_CODE_CHARACTERS))
    )
    return f"{site_code}-{code[:5]}-{code[5:]}"
