"""Users, their roles, invitations and password tokens."""
