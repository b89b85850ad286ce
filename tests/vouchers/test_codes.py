from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_service.vouchers import codes

bodies = st.text(alphabet=codes.ALPHABET, min_size=codes.BODY_LENGTH, max_size=codes.BODY_LENGTH)


def test_generated_codes_validate_and_display_in_groups() -> None:
    code = codes.generate()
    assert codes.normalise(code) == code
    shown = codes.display(code)
    assert shown.count("-") == 3
    assert codes.normalise(shown.lower()) == code


def test_ambiguous_letters_are_read_as_digits() -> None:
    body = "0110" + "A" * 8
    code = body + codes.check_character(body)
    assert (
        codes.normalise(code.replace("0", "O", 1).replace("1", "I", 1).replace("1", "l", 1)) == code
    )


@given(bodies, st.integers(0, codes.BODY_LENGTH), st.integers(1, codes.N - 1))
def test_every_single_character_typo_is_caught(body: str, position: int, shift: int) -> None:
    code = body + codes.check_character(body)
    wrong = codes.ALPHABET[(codes.ALPHABET.index(code[position]) + shift) % codes.N]
    typo = code[:position] + wrong + code[position + 1 :]
    with pytest.raises(codes.InvalidVoucherCode, match="check character"):
        codes.normalise(typo)


@given(bodies, st.integers(0, codes.BODY_LENGTH - 1))
def test_swapping_neighbours_is_caught(body: str, position: int) -> None:
    code = body + codes.check_character(body)
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2 :]
    # Luhn mod N misses exactly one transposition pair per N; it is rare and documented.
    if {codes._VALUE[a], codes._VALUE[b]} == {0, codes.N - 1}:
        return
    with pytest.raises(codes.InvalidVoucherCode):
        codes.normalise(swapped)


@pytest.mark.parametrize(
    ("text", "message"),
    [("ABC", "13 characters"), ("U" * 13, "not used"), ("", "13 characters")],
)
def test_malformed_codes_say_why(text: str, message: str) -> None:
    with pytest.raises(codes.InvalidVoucherCode, match=message):
        codes.normalise(text)
