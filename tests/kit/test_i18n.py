import pytest

from voucher_service.kit.i18n import parse_accept_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh"),
        ("zh-Hans-CN,zh;q=0.9", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,zh;q=0.5", "zh"),
        ("zh;q=0, en;q=0.1", "en"),
        ("zh;q=bogus", "en"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert parse_accept_language(header) == expected
