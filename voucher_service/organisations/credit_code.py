"""The unified social credit code (统一社会信用代码, GB 32100-2015).

Eighteen characters from a 31-character set (no I, O, S, V, Z): registration authority (1),
entity type (2), administrative region (3-8, six digits), organisation code (9-17), check
character (18). The check character is charset[(31 - Σ value(c_i) × 3^(i-1) mod 31) mod 31].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {char: index for index, char in enumerate(CHARSET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]

Problem = Literal["length", "characters", "region", "checksum"]


@dataclass(frozen=True)
class CreditCodeProblem:
    """Why a code is not valid, in words a person filling in a form understands."""

    reason: Problem
    message: str
    message_zh: str


@dataclass(frozen=True)
class CreditCode:
    code: str
    region_code: str
    checksum_ok: bool


def normalise(raw: str) -> str:
    """Upper case without surrounding or inner spaces (codes are often copied with spaces)."""
    return "".join(raw.split()).upper()


def check_character(first17: str) -> str:
    """The check character for the first seventeen characters of a code."""
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def inspect(raw: str) -> CreditCode | CreditCodeProblem:
    """Parse ``raw``; a problem for a malformed code, a :class:`CreditCode` otherwise.

    A well-formed code with a wrong check character parses with ``checksum_ok=False``, so that
    an administrator can accept a legacy code deliberately.
    """
    code = normalise(raw)
    if len(code) != 18:
        return CreditCodeProblem(
            "length",
            f"A unified social credit code has 18 characters; this one has {len(code)}.",
            f"统一社会信用代码应为 18 位，当前为 {len(code)} 位。",
        )
    bad = sorted({char for char in code if char not in _VALUES})
    if bad:
        shown = ", ".join(bad)
        return CreditCodeProblem(
            "characters",
            f"Characters not allowed in a unified social credit code: {shown} "
            "(the letters I, O, S, V and Z are never used).",
            f"统一社会信用代码中不允许出现：{shown}（不使用字母 I、O、S、V、Z）。",
        )
    region = code[2:8]
    if not region.isdigit():
        return CreditCodeProblem(
            "region",
            f"Characters 3 to 8 must be a six-digit administrative region code, not {region}.",
            f"第 3 至 8 位应为六位数字的行政区划代码，当前为 {region}。",
        )
    return CreditCode(code, region, check_character(code[:17]) == code[17])


def checksum_problem(code: str) -> CreditCodeProblem:
    """The problem to report for a code whose check character is wrong."""
    return CreditCodeProblem(
        "checksum",
        f"The check character (the 18th) of {code} is wrong: please check the code for typos.",
        f"统一社会信用代码 {code} 的校验位（第 18 位）不正确，请核对是否有输入错误。",
    )
