"""The service's signing keys (EC P-256, ES256) and the JWKS that publishes them."""
