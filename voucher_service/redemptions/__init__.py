"""Provider redemptions: authorise (hold), capture, void, refund; the provider API's routes."""
