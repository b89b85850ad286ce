"""RFC 9457 problem responses, and the one place where exceptions become them.

Domain code raises subclasses of :class:`ProblemError` (or of a library's own exception hierarchy
registered with :func:`register_foreign`); nothing else in the code base builds error responses.
Every problem carries a stable machine ``code``, and its ``title``/``detail`` follow the request's
``Accept-Language`` (Simplified Chinese or English).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from voucher_service.kit.context import request_id_of
from voucher_service.kit.i18n import Language, preferred_language
from voucher_service.kit.unavailable import CANDIDATE_TYPES, RETRY_AFTER_SECONDS, is_unavailable

logger = logging.getLogger("voucher_service.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://voucher.example.gov.cn/problems/"


class ProblemError(Exception):
    """An expected failure with a stable ``code``; subclasses set ``status``, ``code``, titles."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    title_zh: ClassVar[str] = "请求有误"

    def __init__(
        self,
        detail: str | None = None,
        *,
        detail_zh: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.detail_zh = detail_zh
        self.headers = dict(headers or {})
        self.extensions = extensions


class Problem(BaseModel):
    """The body of every error response (RFC 9457), documented in the OpenAPI."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=[PROBLEM_BASE + "insufficient_balance"])
    title: str = Field(examples=["Insufficient balance"])
    status: int = Field(examples=[422])
    detail: str | None = Field(default=None, examples=["The voucher covers 120.00 CNY at most."])
    code: str = Field(examples=["insufficient_balance"])
    instance: str | None = None
    request_id: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route, so the OpenAPI shows the problems it can return."""
    return {
        status: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": "Problem"}
        for status in statuses
    }


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Build a problem+json response for ``request``."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "instance": request.url.path,
        "request_id": request_id_of(request),
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# Exceptions defined outside the application (the ledger library) mapped to an HTTP status;
# they must carry ``code`` and may carry ``title``/``title_zh``.
_FOREIGN: dict[type[Exception], int] = {}


def register_foreign(exc_type: type[Exception], status: int) -> None:
    """Map a library exception class (with a ``code`` attribute) to an HTTP status."""
    _FOREIGN[exc_type] = status


def is_mapped(exc: Exception) -> bool:
    """Whether ``exc`` is a library exception registered with :func:`register_foreign`."""
    return isinstance(exc, tuple(_FOREIGN))


class HtmlErrorPages(Protocol):
    """How a web front end (the portal) shows problems for the paths it owns."""

    prefix: str

    def language(self, request: Request) -> Language: ...

    def render(
        self, request: Request, status: int, title: str, detail: str | None, request_id: str | None
    ) -> Response: ...


def _html_pages(request: Request) -> HtmlErrorPages | None:
    pages: HtmlErrorPages | None = getattr(request.app.state, "html_error_pages", None)
    return pages if pages and request.url.path.startswith(pages.prefix) else None


def _respond(
    request: Request,
    *,
    status: int,
    code: str,
    titles: tuple[str, str],
    details: tuple[str | None, str | None] = (None, None),
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """A problem in the request's language: problem+json, or an HTML page under the portal."""
    pages = _html_pages(request)
    language = pages.language(request) if pages else preferred_language(request)
    title = titles[1] if language == "zh" else titles[0]
    detail = (details[1] or details[0]) if language == "zh" else details[0]
    if pages:
        response = pages.render(request, status, title, detail, request_id_of(request))
        response.headers.update(headers or {})
        return response
    return problem_response(
        request, status=status, code=code, title=title, detail=detail, headers=headers, **extensions
    )


def _problem_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)  # noqa: S101 - registered for ProblemError only
    return _respond(
        request,
        status=exc.status,
        code=exc.code,
        titles=(exc.title, exc.title_zh),
        details=(exc.detail, exc.detail_zh),
        headers=exc.headers,
        **exc.extensions,
    )


def _foreign_handler(status: int) -> Callable[[Request, Exception], Response]:
    def handle(request: Request, exc: Exception) -> Response:
        code = str(getattr(exc, "code", "error"))
        title = getattr(exc, "title", None) or code.replace("_", " ").capitalize()
        title_zh = getattr(exc, "title_zh", None) or title
        return _respond(
            request, status=status, code=code, titles=(title, title_zh), details=(str(exc), None)
        )

    return handle


_HTTP_CODES = {
    400: ("bad_request", "Bad request", "请求有误"),
    401: ("unauthorized", "Authentication required", "需要登录认证"),
    403: ("forbidden", "Forbidden", "无权访问"),
    404: ("not_found", "Not found", "未找到"),
    405: ("method_not_allowed", "Method not allowed", "不支持该请求方法"),
    406: ("not_acceptable", "Not acceptable", "无法提供所需格式"),
    409: ("conflict", "Conflict", "请求冲突"),
    413: ("payload_too_large", "Request body too large", "请求内容过大"),
    415: ("unsupported_media_type", "Unsupported media type", "不支持的内容类型"),
    429: ("rate_limited", "Too many requests", "请求过于频繁"),
}


def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type only
    code, title, title_zh = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error", "错误"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return _respond(
        request,
        status=exc.status_code,
        code=code,
        titles=(title, title_zh),
        details=(detail, None),
        headers=exc.headers,
    )


def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    if any(err["type"] == "json_invalid" for err in errors):
        return _respond(
            request,
            status=400,
            code="malformed_json",
            titles=("Malformed JSON body", "请求体不是有效的 JSON"),
            details=(errors[0]["msg"], None),
        )
    return _respond(
        request,
        status=422,
        code="validation_error",
        titles=("Request validation failed", "请求参数校验失败"),
        details=("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors), None),
        errors=errors,
    )


def _unavailable(request: Request, exc: Exception) -> Response:
    logger.warning("database unavailable", exc_info=exc)
    return _respond(
        request,
        status=503,
        code="service_unavailable",
        titles=("Service temporarily unavailable", "服务暂时不可用"),
        details=(
            "The database could not complete this request; nothing was changed. Retry later "
            "(with the same Idempotency-Key).",
            "数据库暂时无法完成该请求，未做任何更改。请稍后重试（使用相同的幂等键）。",
        ),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _database_error_handler(request: Request, exc: Exception) -> Response:
    """503 for a lost or refused database connection; anything else stays a 500."""
    if is_unavailable(exc):
        return _unavailable(request, exc)
    raise exc  # on to the server error middleware: a logged 500


def _unexpected_handler(request: Request, exc: Exception) -> Response:
    if is_unavailable(exc):  # raised outside the routes (middleware), or inside a group
        return _unavailable(request, exc)
    logger.exception("unhandled error", exc_info=exc)
    request_id = request_id_of(request)
    return _respond(
        request,
        status=500,
        code="internal_error",
        titles=("Internal server error", "服务器内部错误"),
        details=(
            f"Quote request id {request_id} when reporting this.",
            f"反馈问题时请提供请求编号 {request_id}。",
        ),
        headers={"X-Request-ID": request_id or ""},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every kind of failure through a problem+json response."""
    app.add_exception_handler(ProblemError, _problem_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
    for database_error in CANDIDATE_TYPES:
        app.add_exception_handler(database_error, _database_error_handler)
    for exc_type, status in _FOREIGN.items():
        app.add_exception_handler(exc_type, _foreign_handler(status))


def render_known(request: Request, exc: Exception) -> Response | None:
    """The problem response for a ``ProblemError`` or a registered library exception, else None.

    For layers that must see the answer before the unit of work ends (the idempotency layer
    keeps refusals with the request's key).
    """
    if isinstance(exc, ProblemError):
        return _problem_error_handler(request, exc)
    for exc_type, status in _FOREIGN.items():
        if isinstance(exc, exc_type):
            return _foreign_handler(status)(request, exc)
    return None
