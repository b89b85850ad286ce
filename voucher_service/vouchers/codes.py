"""Voucher codes people can read aloud and type: Crockford base32 with a Luhn mod 32 check.

``K7M2-9XPA-Q3HT-V``: twelve random characters (60 bits) and a check character, grouped by four.
The alphabet has no I, L, O or U; on input those are read as 1, 1 and 0 (U is refused), case and
separators are ignored. Any single wrong character, and any swap of two neighbours except 0 with Z
(the one blind spot of Luhn mod N), is caught by the check character, so a typo is refused before
any database lookup.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]")
BODY_LENGTH = 12
N = len(ALPHABET)


class InvalidVoucherCode(ValueError):
    """The text is not a well-formed voucher code (wrong length, character or check)."""


def check_character(body: str) -> str:
    """The Luhn mod N check character for ``body`` (characters of ALPHABET)."""
    total = 0
    factor = 2
    for char in reversed(body):
        addend = factor * _VALUE[char]
        total += addend // N + addend % N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(N - total % N) % N]


def generate() -> str:
    """A new random code in canonical form (no separators)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def normalise(text: str) -> str:
    """Canonical form of a typed code, or InvalidVoucherCode saying what is wrong."""
    code = _SEPARATORS.sub("", text).upper().translate(_READ_AS)
    if len(code) != BODY_LENGTH + 1:
        raise InvalidVoucherCode(f"a voucher code has {BODY_LENGTH + 1} characters")
    bad = sorted({char for char in code if char not in _VALUE})
    if bad:
        raise InvalidVoucherCode(f"characters not used in voucher codes: {''.join(bad)}")
    if check_character(code[:-1]) != code[-1]:
        raise InvalidVoucherCode("the check character does not match; please check for a typo")
    return code


def display(code: str) -> str:
    """``K7M29XPAQ3HTV`` → ``K7M2-9XPA-Q3HT-V``."""
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))
