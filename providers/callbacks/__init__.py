"""Inbound provider callbacks: signed, fresh, idempotent, stored, dispatched by type.

A provider tells us things (usage statements for reconciliation, settlement confirmations and
disputes) by POSTing ``{"id", "type", "timestamp", "data"}`` signed with the key it registered
for a ``private_key_jwt`` API client (a detached JWS, ``signature``). The public API:

- ``callbacks`` (``registry``): where a domain registers the handler of a type, with the schema of
  its ``data`` and the scope it needs; ``ReceivedCallback`` is what a handler gets.
- ``receive(session, registry, sender, body, signature, now=...)`` (``inbox``): verify, check the
  timestamp, store once, dispatch; a retry of the same callback gets the stored outcome.
- ``ProviderCallback`` (``models``): the stored callbacks, with the evidence to verify them again.

Nothing here imports the application; errors are ``CallbackError`` subclasses with stable codes.
"""

from providers.callbacks.envelope import CallbackEnvelope
from providers.callbacks.errors import CallbackError
from providers.callbacks.inbox import CallbackReceipt, Sender, receive
from providers.callbacks.models import ProviderCallback
from providers.callbacks.registry import CallbackRegistry, ReceivedCallback, callbacks
from providers.callbacks.signature import SIGNATURE_TYPE

__all__ = [
    "SIGNATURE_TYPE",
    "CallbackEnvelope",
    "CallbackError",
    "CallbackReceipt",
    "CallbackRegistry",
    "ProviderCallback",
    "ReceivedCallback",
    "Sender",
    "callbacks",
    "receive",
]
