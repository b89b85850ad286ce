"""A programme's rules as a form: people type yuan and percentages, the API's schema
(``ProgramCreate``/``ProgramRules``) gets fen and basis points, and its errors come back beside
the fields they concern. Rate tiers and review stages are a few rows each (no script needed)."""

from __future__ import annotations

import re
from typing import Any

from voucher_service.kit.i18n import Language
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.money import as_yuan_input, fen_field
from voucher_service.programs.models import Program

TIER_ROWS = 4
STAGE_ROWS = 5
_PERCENT = re.compile(r"^(?P<whole>\d{1,3})(?:\.(?P<part>\d{1,2}))?$")
BAD_PERCENT = N_("Enter a percentage from 0 to 100, like 30 or 12.5.")
TEXT_FIELDS = ("name", "description", "mode", "rounding_unit", "oversubscription_policy")
DATE_FIELDS = ("opens_on", "closes_on", "eligible_from_on", "eligible_until_on", "valid_until_on")
NUMBER_FIELDS = ("fiscal_year", "validity_days", "hold_timeout_seconds")
YUAN_FIELDS = {
    "enterprise_annual_cap": "enterprise_annual_cap_amount",
    "contract_cap": "contract_cap_amount",
    "two_approver_threshold": "two_approver_threshold_amount",
}
PERCENT_FIELDS = {"default_rate": "default_rate_bp", "claim_share": "claim_share_bp"}
#: Fields without which no programme is valid (the schema's ``required``, field by field).
REQUIRED = ("name", "mode", "fiscal_year", "default_rate", "opens_on", "closes_on")
SELECTS = ("rounding_unit", "oversubscription_policy")


def parse_percent(raw: str) -> int | None:
    """Basis points from a typed percentage ("12.5" → 1250); None if it is not one."""
    match = _PERCENT.match(raw.strip().removesuffix("%"))
    if match is None:
        return None
    bp = int(match["whole"]) * 100 + int((match["part"] or "").ljust(2, "0"))
    return bp if bp <= 10_000 else None


def _percent(form: Form, name: str, language: Language) -> int | None:
    raw = str(form.values.get(name) or "")
    if not raw:
        return None
    bp = parse_percent(raw)
    if bp is None:
        form.errors[name] = translate(language, BAD_PERCENT)
    return bp


def _tiers(form: Form, language: Language) -> list[dict[str, Any]]:
    tiers = []
    for row in range(TIER_ROWS):
        rule = form.values.get(f"tier{row}_rule") or ""
        if not rule:
            continue
        tier: dict[str, Any] = {
            "rule": rule,
            "rate_bp": _percent(form, f"tier{row}_rate", language),
        }
        if years := form.values.get(f"tier{row}_years"):
            tier["startup_years"] = years
        limit = fen_field(form.values, form.errors, f"tier{row}_max_contract", language)
        if limit is not None:
            tier["max_contract_amount"] = limit
        industries = str(form.values.get(f"tier{row}_industries") or "")
        tier["industries"] = [i.strip() for i in re.split(r"[,，、]", industries) if i.strip()]
        tiers.append(tier)
    return tiers


def _stages(form: Form) -> list[dict[str, Any]]:
    stages = []
    for row in range(STAGE_ROWS):
        name = form.values.get(f"stage{row}_name") or ""
        if not name:
            continue
        kind = form.values.get(f"stage{row}_kind") or "review"
        stages.append(
            {"name": name, "kind": kind, "days": form.values.get(f"stage{row}_days") or 0}
        )
    return stages


def rules_data(form: Form, language: Language, *, with_kind: bool) -> dict[str, Any]:
    """What the form says, in the API schema's terms (amounts in fen, rates in basis points)."""
    values = form.values
    for name in REQUIRED + SELECTS + (("kind",) if with_kind else ()):
        if not values.get(name):
            form.errors[name] = translate(language, N_("Enter a value."))
    data: dict[str, Any] = {name: values.get(name) or None for name in TEXT_FIELDS}
    data["description"] = values.get("description") or ""
    data |= {name: values.get(name) or None for name in DATE_FIELDS + NUMBER_FIELDS}
    for field, column in YUAN_FIELDS.items():
        data[column] = fen_field(values, form.errors, field, language)
    for field, column in PERCENT_FIELDS.items():
        data[column] = _percent(form, field, language)
    data["allow_holder_providers"] = values.get("allow_holder_providers") == "true"
    data["rate_tiers"] = _tiers(form, language)
    data["review_stages"] = _stages(form)
    if data["hold_timeout_seconds"] is None:
        data.pop("hold_timeout_seconds")
    if with_kind:
        data["kind"] = values.get("kind") or None
    return data


def error_fields() -> dict[tuple[str | int, ...], str]:
    """Where the schema's errors go: a tier's or a stage's row, an amount's yuan field."""
    fields: dict[tuple[str | int, ...], str] = {}
    for row in range(TIER_ROWS):
        for part, name in (
            ("rule", "rule"),
            ("rate_bp", "rate"),
            ("startup_years", "years"),
            ("max_contract_amount", "max_contract"),
            ("industries", "industries"),
        ):
            fields[("rate_tiers", row, part)] = f"tier{row}_{name}"
        fields[("rate_tiers", row)] = f"tier{row}_rule"
    for row in range(STAGE_ROWS):
        for part in ("name", "kind", "days"):
            fields[("review_stages", row, part)] = f"stage{row}_{part}"
    for field, column in {**YUAN_FIELDS, **PERCENT_FIELDS}.items():
        fields[(column,)] = field
    return fields


def _percent_text(bp: int | None) -> str:
    if bp is None:
        return ""
    whole, rest = divmod(bp, 100)
    return str(whole) if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")


def form_of(program: Program) -> Form:
    """The form filled in with ``program``'s rules."""
    values: dict[str, Any] = {name: getattr(program, name) or "" for name in TEXT_FIELDS}
    values["kind"] = program.kind
    for name in DATE_FIELDS + NUMBER_FIELDS:
        value = getattr(program, name)
        values[name] = "" if value is None else str(value)
    for field, column in YUAN_FIELDS.items():
        values[field] = as_yuan_input(getattr(program, column))
    for field, column in PERCENT_FIELDS.items():
        values[field] = _percent_text(getattr(program, column))
    values["allow_holder_providers"] = "true" if program.allow_holder_providers else ""
    for row, tier in enumerate(program.rate_tiers[:TIER_ROWS]):
        values[f"tier{row}_rule"] = tier.get("rule", "")
        values[f"tier{row}_rate"] = _percent_text(tier.get("rate_bp"))
        values[f"tier{row}_years"] = str(tier.get("startup_years") or "")
        values[f"tier{row}_max_contract"] = as_yuan_input(tier.get("max_contract_amount"))
        values[f"tier{row}_industries"] = "，".join(tier.get("industries") or [])
    for row, stage in enumerate(program.review_stages[:STAGE_ROWS]):
        values[f"stage{row}_name"] = stage.get("name", "")
        values[f"stage{row}_kind"] = stage.get("kind", "review")
        values[f"stage{row}_days"] = str(stage.get("days", 0))
    return Form(values)
