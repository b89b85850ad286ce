"""Organisations: enterprises (startups), providers and the authority."""
