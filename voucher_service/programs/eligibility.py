"""The eligible amount of an application, computed exactly and explained step by step.

The programme's published rule, in order:

1. **Tier**: the first rate tier whose rule matches the applicant and contract gives ``rate_bp``.
2. **Proration**: eligible base = contract amount × overlap days ÷ contract days, where day counts
   are date differences (end − start) and the overlap is with the programme's eligible period.
3. **Subsidy** = eligible base × rate_bp ÷ 10000, kept as an exact fraction (no rounding yet).
4. **Caps**: the smallest of the subsidy, the per-contract cap, the per-claim share of the
   contract, and what is left of the enterprise's annual cap.
5. **Rounding**: truncated (never up) to the programme's unit, fen or yuan.

DESIGN.md's worked example (200,000 CNY contract 2025‑01‑01 → 2026‑12‑31, eligible period
2025‑03‑01 → 2025‑12‑31, 30 %, yuan) gives 25,102 CNY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction

BASIS_POINTS = 10_000
FEN_PER_UNIT = {"fen": 1, "yuan": 100}


class TierRule(StrEnum):
    STARTUP = "startup"  # founded within ``startup_years`` of the application
    SME = "sme"  # micro, small or medium enterprise
    SMALL_CONTRACT = "small_contract"  # contract amount at most ``max_contract_amount``
    DOMESTIC_CHIPS = "domestic_chips"  # the contract runs on domestic accelerators
    INDUSTRY = "industry"  # the enterprise's industry is one of ``industries``
    DEFAULT = "default"  # always matches; put it last


SME_SIZES = frozenset({"micro", "small", "medium"})


@dataclass(frozen=True)
class RateTier:
    rule: TierRule
    rate_bp: int
    startup_years: int = 3
    max_contract_amount: int | None = None
    industries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Caps:
    per_contract_amount: int | None = None
    per_claim_share_bp: int | None = None
    per_enterprise_annual_amount: int | None = None


@dataclass(frozen=True)
class Applicant:
    founded_on: date | None = None
    size: str | None = None
    industry: str | None = None


@dataclass(frozen=True)
class Contract:
    amount: int
    start_on: date
    end_on: date
    domestic_chips: bool = False


@dataclass(frozen=True)
class Rule:
    """What a programme publishes: tiers, caps, eligible period and rounding unit."""

    tiers: tuple[RateTier, ...]
    caps: Caps = field(default_factory=Caps)
    rounding: str = "fen"
    eligible_from_on: date | None = None
    eligible_until_on: date | None = None


@dataclass(frozen=True)
class CapCheck:
    name: str  # per_contract | per_claim_share | enterprise_annual_remaining
    limit_amount: int
    binding: bool


@dataclass(frozen=True)
class Eligibility:
    """The amount and every number that led to it, for the applicant and the reviewer."""

    eligible_amount: int
    tier: TierRule | None
    rate_bp: int
    contract_amount: int
    contract_days: int
    overlap_days: int
    eligible_base: Fraction
    subsidy_before_caps: Fraction
    caps: tuple[CapCheck, ...]
    rounding: str


class IneligibleContract(ValueError):
    """The contract cannot be assessed (no days, or outside the eligible period)."""


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def matches(tier: RateTier, applicant: Applicant, contract: Contract, on: date) -> bool:
    """Whether ``tier``'s rule holds for this applicant and contract on day ``on``."""
    match tier.rule:
        case TierRule.STARTUP:
            founded = applicant.founded_on
            return founded is not None and founded > _years_before(on, tier.startup_years)
        case TierRule.SME:
            return applicant.size in SME_SIZES
        case TierRule.SMALL_CONTRACT:
            limit = tier.max_contract_amount
            return limit is not None and contract.amount <= limit
        case TierRule.DOMESTIC_CHIPS:
            return contract.domestic_chips
        case TierRule.INDUSTRY:
            return applicant.industry is not None and applicant.industry in tier.industries
        case TierRule.DEFAULT:
            return True


def overlap_days(rule: Rule, contract: Contract) -> int:
    """Days of the contract inside the programme's eligible period."""
    start = max(contract.start_on, rule.eligible_from_on or contract.start_on)
    end = min(contract.end_on, rule.eligible_until_on or contract.end_on)
    return max((end - start).days, 0)


def compute(
    rule: Rule, applicant: Applicant, contract: Contract, *, on: date, awarded_this_year: int = 0
) -> Eligibility:
    """The eligible amount for ``contract`` under ``rule``, with its working."""
    contract_days = (contract.end_on - contract.start_on).days
    if contract_days <= 0:
        raise IneligibleContract("the contract must end after it starts")
    overlap = overlap_days(rule, contract)
    if overlap == 0:
        raise IneligibleContract("the contract does not overlap the programme's eligible period")
    tier = next((t for t in rule.tiers if matches(t, applicant, contract, on)), None)
    rate_bp = tier.rate_bp if tier else 0
    base = Fraction(contract.amount * overlap, contract_days)
    subsidy = base * rate_bp / BASIS_POINTS
    caps = _cap_limits(rule.caps, contract, awarded_this_year)
    capped = min([subsidy, *(Fraction(limit) for _, limit in caps)])
    unit = FEN_PER_UNIT[rule.rounding]
    amount = int(capped // unit) * unit
    checks = tuple(
        CapCheck(name, limit, binding=Fraction(limit) < subsidy and Fraction(limit) == capped)
        for name, limit in caps
    )
    return Eligibility(
        eligible_amount=amount,
        tier=tier.rule if tier else None,
        rate_bp=rate_bp,
        contract_amount=contract.amount,
        contract_days=contract_days,
        overlap_days=overlap,
        eligible_base=base,
        subsidy_before_caps=subsidy,
        caps=checks,
        rounding=rule.rounding,
    )


def _cap_limits(caps: Caps, contract: Contract, awarded_this_year: int) -> list[tuple[str, int]]:
    limits: list[tuple[str, int]] = []
    if caps.per_contract_amount is not None:
        limits.append(("per_contract", caps.per_contract_amount))
    if caps.per_claim_share_bp is not None:
        share = contract.amount * caps.per_claim_share_bp // BASIS_POINTS
        limits.append(("per_claim_share", share))
    if caps.per_enterprise_annual_amount is not None:
        remaining = max(caps.per_enterprise_annual_amount - awarded_this_year, 0)
        limits.append(("enterprise_annual_remaining", remaining))
    return limits
