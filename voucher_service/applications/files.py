"""Attachments on disk: names made safe, types told by content, stored once by SHA-256.

A file is accepted only if its bytes start with the magic number of a PDF, PNG or JPEG and its
name's extension says the same type: a ``.pdf`` that is really a PNG, or text, is refused. Names
that try to climb out of a directory are refused, not silently rewritten. Everything is checked
before anything is written, and the content is written atomically (a temporary file in the same
directory, then a rename), so a crash never leaves half a file under its final name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from voucher_service.applications.errors import (
    AttachmentEmpty,
    AttachmentNameInvalid,
    AttachmentTooLarge,
    AttachmentTypeMismatch,
    AttachmentTypeNotAllowed,
)

MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check: safe name, detected type, digest."""

    name: str
    content_type: str
    size: int
    sha256: str


def sniff(content: bytes) -> str | None:
    """The media type told by ``content``'s first bytes (PDF, PNG, JPEG), or None."""
    return next((kind for magic, kind in MAGIC_NUMBERS if content.startswith(magic)), None)


def safe_name(name: str) -> str:
    """``name`` normalised (NFC, trimmed), or AttachmentNameInvalid if it is not a plain name."""
    text = unicodedata.normalize("NFC", name).strip()
    bad = (
        not text
        or text in {".", ".."}
        or any(sep in text for sep in ("/", "\\", "\x00"))
        or any(unicodedata.category(char).startswith("C") for char in text)
        or len(text) > MAX_NAME_CHARS
        or (len(text) >= 2 and text[1] == ":")  # a Windows drive, C:evil.pdf
    )
    if bad:
        raise AttachmentNameInvalid(
            "A file name must be a plain name without folders or control characters, "
            f"at most {MAX_NAME_CHARS} characters.",
            detail_zh=f"文件名必须是不含目录和控制字符的普通名称，最长 {MAX_NAME_CHARS} 个字符。",
        )
    return text


def check(name: str, content: bytes, *, max_bytes: int) -> CheckedFile:
    """Every check on an upload, before anything is stored."""
    clean = safe_name(name)
    if not content:
        raise AttachmentEmpty("The file is empty.", detail_zh="文件为空。")
    if len(content) > max_bytes:
        raise AttachmentTooLarge(
            f"A file may have at most {max_bytes} bytes.",
            detail_zh=f"文件不得超过 {max_bytes} 字节。",
            max_bytes=max_bytes,
        )
    claimed = EXTENSIONS.get(Path(clean).suffix.lower())
    if claimed is None:
        raise AttachmentTypeNotAllowed(
            "Only PDF, PNG and JPEG files (.pdf, .png, .jpg, .jpeg) are accepted.",
            detail_zh="仅接受 PDF、PNG、JPEG 文件（.pdf、.png、.jpg、.jpeg）。",
        )
    detected = sniff(content)
    if detected is None:
        raise AttachmentTypeNotAllowed(
            "The content is not a PDF, PNG or JPEG file.",
            detail_zh="文件内容不是 PDF、PNG 或 JPEG。",
        )
    if detected != claimed:
        raise AttachmentTypeMismatch(
            f"The name says {claimed} but the content is {detected}.",
            detail_zh=f"文件名表明类型为 {claimed}，但内容为 {detected}。",
            detected=detected,
        )
    digest = hashlib.sha256(content).hexdigest()
    return CheckedFile(name=clean, content_type=detected, size=len(content), sha256=digest)


def blob_path(root: Path, sha256: str) -> Path:
    """Where the content with this digest lives: ``<root>/<sha256[:2]>/<sha256>``."""
    if len(sha256) != 64 or any(char not in "0123456789abcdef" for char in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root / sha256[:2] / sha256


def store(root: Path, checked: CheckedFile, content: bytes) -> Path:
    """Write ``content`` once under its digest, atomically; an identical file is kept as is."""
    target = blob_path(root, checked.sha256)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
