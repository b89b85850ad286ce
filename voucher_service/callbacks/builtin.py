"""``callback.test``: lets a provider check its signing set-up before any business callback.

It changes nothing; the answer says which registered key verified the signature, which is what a
provider wants to know while it wires up signing or rotates its key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from providers.callbacks import ReceivedCallback, callbacks

TEST_CALLBACK_TYPE = "callback.test"


class CallbackTestData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str | None = Field(default=None, max_length=500)


@callbacks.handler(TEST_CALLBACK_TYPE, data=CallbackTestData, scope=None)
async def echo_test_callback(
    _session: AsyncSession, callback: ReceivedCallback[CallbackTestData]
) -> dict[str, Any]:
    """Echo what was verified: the key, the signed time and the message."""
    return {
        "verified": True,
        "key_id": callback.key_id,
        "signed_at": callback.sent_at.isoformat(),
        "message": callback.data.message,
    }
