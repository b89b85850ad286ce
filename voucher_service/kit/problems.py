"""RFC 9457 problem responses, and the one place where exceptions become them.

Domain code raises subclasses of :class:`ProblemError` (or of a library's own exception hierarchy
registered with :func:`register_foreign`); nothing else in the code base builds error responses.
Every problem carries a stable machine ``code``, and its ``title``/``detail`` follow the request's
``Accept-Language`` (Simplified Chinese or English).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from voucher_service.kit.context import request_id_of
from voucher_service.kit.i18n import preferred_language

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


def _problem_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)  # noqa: S101 - registered for ProblemError only
    zh = preferred_language(request) == "zh"
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title_zh if zh else exc.title,
        detail=(exc.detail_zh or exc.detail) if zh else exc.detail,
        headers=exc.headers,
        **exc.extensions,
    )


def _foreign_handler(status: int) -> Callable[[Request, Exception], JSONResponse]:
    def handle(request: Request, exc: Exception) -> JSONResponse:
        zh = preferred_language(request) == "zh"
        code = str(getattr(exc, "code", "error"))
        title = getattr(exc, "title_zh" if zh else "title", None) or code.replace("_", " ")
        return problem_response(request, status=status, code=code, title=title, detail=str(exc))

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


def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code, title, title_zh = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error", "错误"))
    zh = preferred_language(request) == "zh"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=title_zh if zh else title,
        detail=detail,
        headers=exc.headers,
    )


def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    zh = preferred_language(request) == "zh"
    if any(err["type"] == "json_invalid" for err in errors):
        return problem_response(
            request,
            status=400,
            code="malformed_json",
            title="请求体不是有效的 JSON" if zh else "Malformed JSON body",
            detail=errors[0]["msg"],
        )
    return problem_response(
        request,
        status=422,
        code="validation_error",
        title="请求参数校验失败" if zh else "Request validation failed",
        detail="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors),
        errors=errors,
    )


def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    zh = preferred_language(request) == "zh"
    request_id = request_id_of(request)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        title="服务器内部错误" if zh else "Internal server error",
        detail=f"Quote request id {request_id} when reporting this.",
        headers={"X-Request-ID": request_id or ""},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every kind of failure through a problem+json response."""
    app.add_exception_handler(ProblemError, _problem_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
    for exc_type, status in _FOREIGN.items():
        app.add_exception_handler(exc_type, _foreign_handler(status))
