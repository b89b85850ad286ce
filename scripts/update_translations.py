"""Refresh the portal's Chinese catalogue after changing templates.

    python scripts/update_translations.py [new-translations.json]

Extracts every message from the portal (babel.cfg), merges it into
voucher_service/portal/locale/zh/LC_MESSAGES/messages.po, fills translations given as a JSON object
{"English message": "中文"}, and lists what is still untranslated (tests fail on any).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "voucher_service/portal/locale/zh/LC_MESSAGES/messages.po"


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        pot = Path(scratch) / "messages.pot"
        subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "-F",
                "babel.cfg",
                "-o",
                str(pot),
                "--no-location",
                ".",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        with pot.open("rb") as handle:
            template = read_po(handle)
    catalog = Catalog(locale="zh")
    if PO_PATH.exists():
        with PO_PATH.open("rb") as handle:
            catalog = read_po(handle, locale="zh")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.fuzzy = False
    given = json.loads(Path(sys.argv[1]).read_text("utf-8")) if len(sys.argv) > 1 else {}
    for message in catalog:
        if message.id and message.id in given:
            message.string = given[message.id]
            message.flags.discard("fuzzy")
    with PO_PATH.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    for message_id in missing:
        print(f"untranslated: {message_id}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
