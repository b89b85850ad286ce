"""Write an uploaded statement to a temporary file as it arrives (raw body or form ``file``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Request
from starlette.datastructures import UploadFile

from voucher_service.reconciliation.errors import StatementEmpty

CHUNK = 1 << 20


@contextlib.asynccontextmanager
async def spooled_upload(request: Request) -> AsyncIterator[Path]:
    """The request's statement in a temporary file, removed afterwards."""
    handle, name = tempfile.mkstemp(prefix="statement-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as target:
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                async with request.form() as form:
                    upload = form.get("file")
                    if not isinstance(upload, UploadFile):
                        raise StatementEmpty(
                            "Send the statement as the form field 'file'.",
                            detail_zh="请以表单字段 file 上传对账单。",
                        )
                    while chunk := await upload.read(CHUNK):
                        target.write(chunk)
            else:
                async for chunk in request.stream():
                    target.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)
