from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voucher_service.programs.eligibility import (
    Applicant,
    Caps,
    Contract,
    IneligibleContract,
    RateTier,
    Rule,
    TierRule,
    compute,
)

DEFAULT_30 = RateTier(TierRule.DEFAULT, 3000)
TODAY = date(2025, 3, 1)


def test_worked_example_from_the_design_gives_25102_yuan() -> None:
    rule = Rule(
        tiers=(DEFAULT_30,),
        rounding="yuan",
        eligible_from_on=date(2025, 3, 1),
        eligible_until_on=date(2025, 12, 31),
    )
    contract = Contract(amount=200_000_00, start_on=date(2025, 1, 1), end_on=date(2026, 12, 31))
    result = compute(rule, Applicant(), contract, on=TODAY)
    assert (result.contract_days, result.overlap_days) == (729, 305)
    assert result.eligible_amount == 25_102_00
    assert result.subsidy_before_caps == Fraction(200_000_00 * 305 * 3000, 729 * 10_000)


def test_fen_rounding_truncates_not_rounds() -> None:
    rule = Rule(tiers=(RateTier(TierRule.DEFAULT, 3333),))
    contract = Contract(amount=999, start_on=date(2025, 1, 1), end_on=date(2025, 2, 1))
    assert compute(rule, Applicant(), contract, on=TODAY).eligible_amount == 332  # 332.9667


def test_first_matching_tier_wins() -> None:
    tiers = (
        RateTier(TierRule.STARTUP, 6000, startup_years=3),
        RateTier(TierRule.SMALL_CONTRACT, 5000, max_contract_amount=100_000_00),
        DEFAULT_30,
    )
    rule = Rule(tiers=tiers)
    small = Contract(amount=50_000_00, start_on=date(2025, 1, 1), end_on=date(2025, 7, 1))
    young = Applicant(founded_on=date(2023, 6, 1))
    old = Applicant(founded_on=date(2010, 6, 1))
    assert compute(rule, young, small, on=TODAY).tier is TierRule.STARTUP
    assert compute(rule, old, small, on=TODAY).tier is TierRule.SMALL_CONTRACT
    big = Contract(amount=500_000_00, start_on=date(2025, 1, 1), end_on=date(2025, 7, 1))
    result = compute(rule, old, big, on=TODAY)
    assert (result.tier, result.rate_bp, result.eligible_amount) == (
        TierRule.DEFAULT,
        3000,
        150_000_00,
    )


def test_startup_age_is_measured_on_the_day_of_assessment() -> None:
    rule = Rule(tiers=(RateTier(TierRule.STARTUP, 6000, startup_years=3),))
    contract = Contract(amount=100, start_on=date(2025, 1, 1), end_on=date(2025, 1, 2))
    exactly_three = Applicant(founded_on=date(2022, 3, 1))
    assert compute(rule, exactly_three, contract, on=TODAY).tier is None
    just_younger = Applicant(founded_on=date(2022, 3, 2))
    assert compute(rule, just_younger, contract, on=TODAY).tier is TierRule.STARTUP
    leap = Applicant(founded_on=date(2021, 3, 1))
    assert compute(rule, leap, contract, on=date(2024, 2, 29)).tier is TierRule.STARTUP


@pytest.mark.parametrize(
    ("rule", "applicant", "contract_chips", "expected"),
    [
        (RateTier(TierRule.SME, 4000), Applicant(size="small"), False, TierRule.SME),
        (RateTier(TierRule.SME, 4000), Applicant(size="large"), False, None),
        (RateTier(TierRule.DOMESTIC_CHIPS, 4000), Applicant(), True, TierRule.DOMESTIC_CHIPS),
        (RateTier(TierRule.DOMESTIC_CHIPS, 4000), Applicant(), False, None),
        (
            RateTier(TierRule.INDUSTRY, 4000, industries=("biomed",)),
            Applicant(industry="biomed"),
            False,
            TierRule.INDUSTRY,
        ),
        (RateTier(TierRule.INDUSTRY, 4000, industries=("biomed",)), Applicant(), False, None),
        (RateTier(TierRule.SMALL_CONTRACT, 4000), Applicant(), False, None),
    ],
)
def test_tier_rules(
    rule: RateTier, applicant: Applicant, contract_chips: bool, expected: TierRule | None
) -> None:
    contract = Contract(100_00, date(2025, 1, 1), date(2025, 2, 1), domestic_chips=contract_chips)
    result = compute(Rule(tiers=(rule,)), applicant, contract, on=TODAY)
    assert result.tier is expected
    assert result.eligible_amount == (4000_00 // 100 if expected else 0)


def test_caps_apply_and_the_binding_one_is_named() -> None:
    rule = Rule(
        tiers=(RateTier(TierRule.DEFAULT, 5000),),
        caps=Caps(
            per_contract_amount=40_000_00,
            per_claim_share_bp=2000,
            per_enterprise_annual_amount=2_000_000_00,
        ),
    )
    contract = Contract(amount=100_000_00, start_on=date(2025, 1, 1), end_on=date(2025, 12, 31))
    result = compute(rule, Applicant(), contract, on=TODAY, awarded_this_year=1_990_000_00)
    assert result.eligible_amount == 10_000_00
    assert [(c.name, c.limit_amount, c.binding) for c in result.caps] == [
        ("per_contract", 40_000_00, False),
        ("per_claim_share", 20_000_00, False),
        ("enterprise_annual_remaining", 10_000_00, True),
    ]


def test_an_exhausted_annual_cap_leaves_nothing() -> None:
    rule = Rule(tiers=(DEFAULT_30,), caps=Caps(per_enterprise_annual_amount=100_00))
    contract = Contract(amount=1_000_00, start_on=date(2025, 1, 1), end_on=date(2025, 2, 1))
    assert (
        compute(rule, Applicant(), contract, on=TODAY, awarded_this_year=500_00).eligible_amount
        == 0
    )


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2025, 1, 2), date(2025, 1, 2), "end after it starts"),
        (date(2025, 2, 1), date(2025, 1, 1), "end after it starts"),
        (date(2027, 1, 1), date(2027, 6, 1), "does not overlap"),
    ],
)
def test_contracts_that_cannot_be_assessed(start: date, end: date, message: str) -> None:
    rule = Rule(tiers=(DEFAULT_30,), eligible_until_on=date(2026, 12, 31))
    with pytest.raises(IneligibleContract, match=message):
        compute(rule, Applicant(), Contract(100_00, start, end), on=TODAY)


@given(
    amount=st.integers(1, 10**12),
    rate_bp=st.integers(0, 10_000),
    contract_days=st.integers(1, 2000),
    skip=st.integers(0, 1999),
    rounding=st.sampled_from(["fen", "yuan"]),
    cap=st.none() | st.integers(0, 10**12),
)
def test_never_more_than_the_rule_allows(
    amount: int, rate_bp: int, contract_days: int, skip: int, rounding: str, cap: int | None
) -> None:
    start = date(2025, 1, 1)
    contract = Contract(amount, start, start + timedelta(days=contract_days))
    eligible_from = start + timedelta(days=min(skip, contract_days - 1))
    rule = Rule(
        tiers=(RateTier(TierRule.DEFAULT, rate_bp),),
        caps=Caps(per_contract_amount=cap),
        rounding=rounding,
        eligible_from_on=eligible_from,
    )
    result = compute(rule, Applicant(), contract, on=TODAY)
    exact = Fraction(amount * result.overlap_days * rate_bp, contract_days * 10_000)
    unit = 100 if rounding == "yuan" else 1
    assert 0 <= result.eligible_amount <= exact
    assert result.eligible_amount % unit == 0
    ceiling = exact if cap is None else min(exact, Fraction(cap))
    assert ceiling - result.eligible_amount < unit
