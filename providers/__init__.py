"""Talking to providers: registry, credentials, outbox and webhook delivery, SDK."""
