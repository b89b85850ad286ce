"""The portal's colours meet WCAG 2.1 AA (4.5:1 for text) on the backgrounds they are used on."""

from __future__ import annotations

import re

import pytest

from voucher_service.portal.templating import PORTAL_STATIC

AA_TEXT = 4.5


def palette() -> dict[str, str]:
    css = (PORTAL_STATIC / "portal.css").read_text("utf-8")
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: str, background: str) -> float:
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


#: (text colour, background) pairs as portal.css uses them; "#ffffff" is literal white.
PAIRS = [
    ("ink", "paper"),
    ("ink", "canvas"),
    ("ink-soft", "canvas"),
    ("muted", "paper"),
    ("muted", "canvas"),
    ("brand", "paper"),
    ("brand", "brand-soft"),
    ("#ffffff", "brand"),
    ("#ffffff", "brand-dark"),
    ("ok", "ok-soft"),
    ("warn", "warn-soft"),
    ("bad", "bad-soft"),
    ("bad", "paper"),
]


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_colours_meet_aa(text: str, background: str) -> None:
    colours = palette()
    foreground = text if text.startswith("#") else colours[text]
    ratio = contrast(foreground, colours[background])
    assert ratio >= AA_TEXT, f"{text} on {background}: {ratio:.2f}:1"
