"""GB 32100 unified social credit codes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_service.organisations import credit_code
from voucher_service.organisations.errors import InvalidCreditCode
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.organisations.service import is_startup, validate_credit_code


def test_the_design_examples() -> None:
    valid = credit_code.inspect("91110000600037341L")
    assert isinstance(valid, credit_code.CreditCode)
    assert valid.checksum_ok and valid.region_code == "110000"
    with pytest.raises(InvalidCreditCode):
        validate_credit_code("91350100M000100Y4Z")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9111000060003734", "length"),
        ("91110000600037341LX", "length"),
        ("91110000600O37341L", "characters"),
        ("9111A000600037341L", "region"),
        ("91110000600037341M", "checksum"),
    ],
)
def test_each_problem_is_named(raw: str, reason: str) -> None:
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code(raw)
    assert caught.value.extensions["reason"] == reason
    assert caught.value.detail and caught.value.detail_zh


def test_legacy_override_accepts_only_a_bad_checksum() -> None:
    assert not validate_credit_code("91110000600037341M", allow_legacy=True).checksum_ok
    with pytest.raises(InvalidCreditCode):
        validate_credit_code("91110000600O37341L", allow_legacy=True)


def test_spaces_and_case_are_forgiven() -> None:
    assert validate_credit_code(" 9111 0000 6000 3734 1l ").code == "91110000600037341L"


body = st.text(alphabet=credit_code.CHARSET, min_size=9, max_size=9)
region = st.from_regex(r"\A[0-9]{6}\Z")


@given(region=region, body=body)
def test_any_code_with_its_check_character_is_valid(region: str, body: str) -> None:
    first17 = "91" + region + body
    assert (
        validate_credit_code(first17 + credit_code.check_character(first17)).region_code == region
    )


@given(
    region=region,
    body=body,
    position=st.integers(0, 16),
    replacement=st.sampled_from(credit_code.CHARSET),
)
def test_every_single_character_typo_is_caught(
    region: str, body: str, position: int, replacement: str
) -> None:
    first17 = "91" + region + body
    code = first17 + credit_code.check_character(first17)
    typo = code[:position] + replacement + code[position + 1 :]
    parsed = credit_code.inspect(typo)
    if typo != code and isinstance(parsed, credit_code.CreditCode):
        assert not parsed.checksum_ok


@pytest.mark.parametrize(
    ("founded_on", "expected"),
    [(date(2021, 6, 2), True), (date(2021, 6, 1), False), (None, False)],
)
def test_startup_is_computed_from_the_founding_date(
    founded_on: date | None, expected: bool
) -> None:
    organisation = Organisation(kind=OrganisationKind.enterprise, name="x", founded_on=founded_on)
    assert is_startup(organisation, on=date(2026, 6, 1), max_age_years=5) is expected
