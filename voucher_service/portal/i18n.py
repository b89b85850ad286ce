"""Portal translations: messages are written in English in the templates and translated into
Simplified Chinese (the default language) from ``locale/zh/LC_MESSAGES/messages.po``.

The .po file is read directly with Babel at start-up, so there is no compile step to forget.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from voucher_service.kit.i18n import Language

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE: Language = "zh"


@cache
def translations(language: Language) -> gettext.NullTranslations:
    """The gettext catalogue for ``language`` (English is the source language)."""
    if language == "en":
        return gettext.NullTranslations()
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


def translate(language: Language, message: str, **params: object) -> str:
    """``message`` in ``language``, with ``%(name)s`` parameters filled in."""
    text = translations(language).gettext(message)
    return text % params if params else text
