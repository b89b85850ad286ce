"""A programme's published rules, and an application's eligible amount, in plain language.

Nothing here decides anything: it reads the programme's own fields and the working the
applications service stored, and says them in the visitor's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from voucher_service.kit.i18n import Language
from voucher_service.portal import labels
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.money import percent
from voucher_service.portal.templating import yuan

TIER_SENTENCES = {
    "startup": N_("Enterprises founded less than %(years)s years ago: %(rate)s of the contract"),
    "sme": N_("Micro, small and medium enterprises: %(rate)s"),
    "small_contract": N_("Contracts of at most %(amount)s yuan: %(rate)s"),
    "domestic_chips": N_("Contracts that run on domestic accelerators: %(rate)s"),
    "industry": N_("Enterprises in %(industries)s: %(rate)s"),
    "default": N_("Everyone else: %(rate)s"),
}


def tier_sentences(program: Any, language: Language) -> list[str]:
    """One sentence per rate tier, in the order they are tried, ending with the default rate."""
    sentences = []
    tiers = list(program.rate_tiers)
    if not tiers or tiers[-1].get("rule") != "default":
        tiers.append({"rule": "default", "rate_bp": program.default_rate_bp})
    for tier in tiers:
        template = TIER_SENTENCES.get(str(tier.get("rule")), TIER_SENTENCES["default"])
        params = {
            "rate": percent(int(tier["rate_bp"])),
            "years": str(tier.get("startup_years") or 3),
            "amount": yuan(tier.get("max_contract_amount") or 0),
            "industries": "、".join(tier.get("industries") or ()) or "—",
        }
        sentences.append(translate(language, template, **params))
    return sentences


def cap_sentences(program: Any, language: Language) -> list[str]:
    """The programme's caps, or that it has none."""
    sentences = []
    if program.enterprise_annual_cap_amount is not None:
        sentences.append(
            translate(
                language,
                N_(
                    "At most %(amount)s yuan per enterprise in a fiscal year, across programmes "
                    "of this kind."
                ),
                amount=yuan(program.enterprise_annual_cap_amount),
            )
        )
    if program.contract_cap_amount is not None:
        sentences.append(
            translate(
                language,
                N_("At most %(amount)s yuan per contract."),
                amount=yuan(program.contract_cap_amount),
            )
        )
    if program.claim_share_bp is not None:
        sentences.append(
            translate(
                language,
                N_("At most %(share)s of the contract amount."),
                share=percent(program.claim_share_bp),
            )
        )
    return sentences or [translate(language, N_("No cap beyond the rates above."))]


def validity_sentence(program: Any, language: Language) -> str:
    days, until = program.validity_days, program.valid_until_on
    if days and until:
        return translate(
            language,
            N_("Valid for %(days)s days from issue, and never after %(until)s."),
            days=str(days),
            until=until.isoformat(),
        )
    if days:
        return translate(language, N_("Valid for %(days)s days from issue."), days=str(days))
    return translate(language, N_("Valid until %(until)s."), until=_iso(until))


def eligible_period(program: Any, language: Language) -> str:
    start, end = program.eligible_from_on, program.eligible_until_on
    if start is None and end is None:
        return translate(language, N_("The whole contract period counts."))
    return translate(
        language,
        N_("Only the part of a contract from %(start)s to %(end)s counts (prorated by days)."),
        start=_iso(start) if start else "—",
        end=_iso(end) if end else "—",
    )


def _iso(day: date | None) -> str:
    return day.isoformat() if day else "—"


def stages(program: Any, language: Language) -> list[tuple[str, str]]:
    """(name, what happens) of each review stage, in order."""
    result = []
    for stage in program.review_stages:
        if stage.get("kind") == "publicity":
            text = translate(
                language,
                N_("The award is published for %(days)s days; anyone may object."),
                days=str(stage.get("days") or 0),
            )
        else:
            text = translate(language, N_("Reviewed by the authority's reviewers."))
        result.append((str(stage.get("name")), text))
    return result


def working_steps(working: Mapping[str, Any] | None, language: Language) -> list[tuple[str, str]]:
    """The eligible amount's working, step by step: (what, how much)."""
    if not working:
        return []
    tier = working.get("tier")
    tier_name = translate(language, labels.of("tier", tier)) if tier else "—"
    base = working["eligible_base"]
    subsidy = working["subsidy_before_caps"]
    steps = [
        (
            translate(language, N_("Contract amount")),
            translate(
                language,
                N_("%(amount)s yuan over %(days)s days"),
                amount=yuan(working["contract_amount"]),
                days=str(working["contract_days"]),
            ),
        ),
        (
            translate(language, N_("Days inside the eligible period")),
            str(working["overlap_days"]),
        ),
        (
            translate(language, N_("Eligible base (amount × days inside ÷ contract days)")),
            _fen(base),
        ),
        (
            translate(language, N_("Rate")),
            f"{percent(int(working['rate_bp']))} · {tier_name}",
        ),
        (translate(language, N_("Subsidy before caps (base × rate)")), _fen(subsidy)),
    ]
    for cap in working.get("caps") or []:
        name = translate(language, labels.of("cap", cap["name"]))
        mark = translate(language, N_(" (applies)")) if cap.get("binding") else ""
        steps.append((name + mark, yuan(int(cap["limit_amount"]))))
    rounding = translate(language, labels.of("rounding", working.get("rounding")))
    steps.append(
        (
            translate(language, N_("Rounded %(how)s"), how=rounding),
            yuan(int(working["eligible_amount"])),
        )
    )
    return steps


def _fen(fraction: Mapping[str, Any]) -> str:
    """An exact fraction of fen, shown truncated to the fen (marked ≈ when it is not exact)."""
    exact = int(fraction["numerator"]) % int(fraction["denominator"]) == 0
    return ("" if exact else "≈ ") + yuan(int(fraction["fen"]))
