"""Actions that change something for good (revoke, suspend) ask for a reason and a ticked box.

The reason is checked with the API route's own schema; the box is the portal's confirmation,
which works without JavaScript (a script may still ask again before sending).
"""

from __future__ import annotations

from pydantic import BaseModel

from voucher_service.kit.i18n import Language
from voucher_service.portal import forms
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate

FIELD = "confirm"


def confirmed_reason(form: Form, schema: type[BaseModel], language: Language) -> str | None:
    """The reason of ``form`` (validated by ``schema``) if the box is ticked, else None."""
    body = forms.validate(form, schema, {"reason": form.values.get("reason", "")}, language)
    if form.values.get(FIELD) != "yes":
        form.errors[FIELD] = translate(language, N_("Tick the box to confirm."))
    if body is None or form.errors:
        return None
    reason = getattr(body, "reason", None)
    return reason if isinstance(reason, str) else None
