"""The webhook engine's fixtures (live receiver, injected clock, engine) for the route tests."""

from tests.providers.webhooks.conftest import box, clock, guard, make_engine, receiver

__all__ = ["box", "clock", "guard", "make_engine", "receiver"]
