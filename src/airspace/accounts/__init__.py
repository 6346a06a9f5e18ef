"""Users, sessions, API tokens, blocks and roles."""
