"""Shared infrastructure: problems, pagination, base models, request context."""
