"""The background worker: periodic jobs (outbox delivery, hold expiry, checkpoint sealing...)."""
