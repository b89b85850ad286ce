"""Form handling: read a posted form, validate it with the API's own schema, and turn what went
wrong into messages beside the fields, in the visitor's language. A form with errors is shown
again with what the visitor typed (never a password) and a 422 status.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from voucher_service.kit.i18n import Language
from voucher_service.kit.pagination import InvalidCursor, PageParams, decode_cursor, paginate
from voucher_service.kit.problems import ProblemError, is_mapped
from voucher_service.portal.csrf import FIELD_NAME
from voucher_service.portal.i18n import N_, translate

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")

#: Fields whose values are never sent back to the browser.
SECRET_FIELDS = frozenset({"password", "password_confirm", "current_password", "new_password"})

_MESSAGES = {
    "missing": N_("Enter a value."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "too_short": N_("Choose at least %(min_length)s."),
    "too_long": N_("Choose at most %(max_length)s."),
    "date_from_datetime_parsing": N_("Enter a date, like 2024-03-18."),
    "date_parsing": N_("Enter a date, like 2024-03-18."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "json_invalid": N_("This is not valid JSON."),
}
EMAIL_MESSAGE = N_("Enter an e-mail address like name@example.cn.")
DEFAULT_MESSAGE = N_("This value is not valid.")


@dataclass
class Form:
    """What the visitor typed, and what is wrong with it (messages already translated)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    prefix: str = "f"  # of its inputs' ids, unique when a page has two forms with one field

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.problem)

    def shown(self) -> dict[str, Any]:
        """The values to put back into the form."""
        return {k: v for k, v in self.values.items() if k not in SECRET_FIELDS}

    def query(self) -> dict[str, Any]:
        """The filled-in values of a filter form, for the links to its other pages."""
        return {k: v for k, v in self.shown().items() if v}


async def read(request: Request, *, lists: tuple[str, ...] = ()) -> Form:
    """The posted form: one trimmed string per field, a list for the names in ``lists``."""
    posted = await request.form()
    values: dict[str, Any] = {}
    for name in posted:
        if name == FIELD_NAME:
            continue
        if name in lists:
            values[name] = [str(v) for v in posted.getlist(name)]
        else:
            raw = posted.get(name)
            values[name] = raw.strip() if isinstance(raw, str) else ""
    for name in lists:
        values.setdefault(name, [])
    return Form(values)


def message_for(language: Language, error: ErrorDetails) -> str:
    """A visitor's message for one pydantic error."""
    kind = error["type"]
    if kind == "string_too_short" and not error.get("input"):
        kind = "missing"  # an empty field is a missing value to the person filling it in
    if kind == "string_pattern_mismatch" and "@" in str(error.get("ctx", {}).get("pattern", "")):
        return translate(language, EMAIL_MESSAGE)
    if kind == "value_error":
        # A validator's own message (written for people), in English only.
        return str(error.get("msg", "")).removeprefix("Value error, ")
    template = _MESSAGES.get(kind, DEFAULT_MESSAGE)
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, int | str)}
    try:
        return translate(language, template, **ctx) if ctx else translate(language, template)
    except (KeyError, TypeError):
        return translate(language, DEFAULT_MESSAGE)


def validate(
    form: Form,
    model: type[Model],
    data: Mapping[str, Any],
    language: Language,
    fields: Mapping[tuple[str | int, ...], str] | None = None,
) -> Model | None:
    """``model`` from ``data``, or None with the errors put on the form's fields.

    ``fields`` maps an error location (``("owner", "email")``) to the form field it belongs to;
    by default the last part of the location names the field.
    """
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        for error in exc.errors():
            location = tuple(error["loc"])
            name = (fields or {}).get(location) or str(location[-1] if location else "")
            form.errors.setdefault(name or "_form", message_for(language, error))
        return None


def problem_message(language: Language, exc: Exception) -> str:
    """What a refused action says to the visitor, in their language."""
    if isinstance(exc, ProblemError):
        if language == "zh":
            if exc.detail_zh or not exc.detail:
                return exc.detail_zh or exc.title_zh
            # A detail written only in English (which rules clash, say) still says more than
            # the title alone: shown after it rather than leave the visitor guessing.
            return f"{exc.title_zh}：{exc.detail}"
        return exc.detail or exc.title
    title = getattr(exc, "title_zh" if language == "zh" else "title", None) or str(exc)
    detail = str(exc)
    return f"{title}: {detail}" if detail and detail != title else str(title)


class Refused(Exception):
    """An action was refused; ``reason`` is the problem (or mapped library exception)."""

    def __init__(self, reason: Exception) -> None:
        super().__init__(str(reason))
        self.reason = reason


async def attempt(session: AsyncSession, action: Callable[[], Awaitable[Result]]) -> Result:
    """Run ``action`` in a savepoint; a refusal undoes its work and is raised as :class:`Refused`.

    A refused action must leave nothing behind (an enterprise without its owner, say) while the
    page that shows the refusal goes on; unexpected errors still propagate (and become a 500).
    """
    try:
        async with session.begin_nested():
            return await action()
    except Exception as exc:
        if is_refusal(exc):
            raise Refused(exc) from exc
        raise


def is_refusal(exc: Exception) -> bool:
    """An expected refusal: a problem, or a library exception the app maps to one."""
    return isinstance(exc, ProblemError) or is_mapped(exc)


def place(
    form: Form,
    exc: Exception,
    language: Language,
    fields: Mapping[type[Exception], str] | None = None,
) -> None:
    """Show a refusal beside the field it concerns (``fields`` by exception class), or on top."""
    message = problem_message(language, exc)
    for exc_type, name in (fields or {}).items():
        if isinstance(exc, exc_type):
            form.errors[name] = message
            return
    form.problem = message


def page_params(cursor: str, form: Form, language: Language, size: int = 50) -> PageParams:
    """Keyset page parameters from a ``cursor`` link (a broken one starts from the top)."""
    try:
        return PageParams(size, decode_cursor(cursor) if cursor else None)
    except InvalidCursor:
        form.problem = translate(language, N_("That page link is broken: showing the first page."))
        return PageParams(size, None)


def parse_uuid(form: Form, name: str, language: Language) -> uuid.UUID | None:
    """The identifier typed into ``name`` (None if empty; a field error if malformed)."""
    raw = form.values.get(name) or ""
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        form.errors[name] = translate(language, N_("This is not a valid identifier."))
        return None


async def keyset_page(
    session: AsyncSession,
    form: Form,
    language: Language,
    query: Select[Any],
    id_column: Any,
    cursor: str,
    size: int = 50,
) -> tuple[Sequence[Any], str | None]:
    """One page of a filtered list (nothing while the filters have errors) and the next cursor."""
    if form.errors:
        return [], None
    return await paginate(session, query, id_column, page_params(cursor, form, language, size))
