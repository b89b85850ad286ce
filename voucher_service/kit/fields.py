"""Reusable constrained field types for request schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

#: An e-mail address, trimmed and lower-cased. Deliberately a plain shape check: deliverability
#: is proven by the invitation or reset token reaching the person, not by DNS look-ups.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$",
    ),
]
