"""Attachment checks and storage, without HTTP: content sniffing, names, atomic storage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from voucher_service.applications import files
from voucher_service.applications.errors import (
    AttachmentEmpty,
    AttachmentNameInvalid,
    AttachmentTooLarge,
    AttachmentTypeMismatch,
    AttachmentTypeNotAllowed,
)

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.mark.parametrize(
    ("content", "expected"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (b"hello", None)],
)
def test_sniff_reads_magic_numbers(content: bytes, expected: str | None) -> None:
    assert files.sniff(content) == expected


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("contract.pdf", PDF, "application/pdf"),
        ("执照.PNG", PNG, "image/png"),
        ("scan.jpeg", JPEG, "image/jpeg"),
        ("scan.jpg", JPEG, "image/jpeg"),
    ],
)
def test_accepts_matching_name_and_content(name: str, content: bytes, kind: str) -> None:
    checked = files.check(name, content, max_bytes=1000)
    assert checked.content_type == kind
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.size == len(content)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.pdf",
        "..\\boot.pdf",
        "/abs.pdf",
        "a/b.pdf",
        "..",
        ".",
        "",
        "  ",
        "C:evil.pdf",
        "nul\x00.pdf",
        "bell\x07.pdf",
        "x" * 250 + ".pdf",
    ],
)
def test_refuses_names_that_are_not_plain(name: str) -> None:
    with pytest.raises(AttachmentNameInvalid):
        files.check(name, PDF, max_bytes=1000)


def test_refuses_empty_and_oversized() -> None:
    with pytest.raises(AttachmentEmpty):
        files.check("a.pdf", b"", max_bytes=1000)
    with pytest.raises(AttachmentTooLarge):
        files.check("a.pdf", PDF + b"x" * 1000, max_bytes=1000)
    assert files.check("a.pdf", PDF, max_bytes=len(PDF)).size == len(PDF)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("contract.pdf", PNG, AttachmentTypeMismatch),
        ("contract.pdf", b"just text, not a PDF", AttachmentTypeNotAllowed),
        ("photo.png", JPEG, AttachmentTypeMismatch),
        ("notes.txt", PDF, AttachmentTypeNotAllowed),
        ("noextension", PDF, AttachmentTypeNotAllowed),
        ("page.html", b"<html>", AttachmentTypeNotAllowed),
    ],
)
def test_refuses_wrong_types(name: str, content: bytes, problem: type[Exception]) -> None:
    with pytest.raises(problem):
        files.check(name, content, max_bytes=1000)


def test_store_writes_once_under_digest(tmp_path: Path) -> None:
    checked = files.check("a.pdf", PDF, max_bytes=1000)
    path = files.store(tmp_path, checked, PDF)
    assert path == tmp_path / checked.sha256[:2] / checked.sha256
    assert path.read_bytes() == PDF
    before = path.stat().st_mtime_ns
    assert files.store(tmp_path, checked, PDF) == path
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in path.parent.iterdir()] == [checked.sha256]  # no temporary left


def test_blob_path_refuses_anything_but_a_digest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        files.blob_path(tmp_path, "../" + "a" * 61)
