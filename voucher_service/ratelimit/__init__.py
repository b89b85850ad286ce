"""Rate limits shared by every API replica, counted in the database."""
