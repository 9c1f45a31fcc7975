"""Sign-in: accounts, password hashes, the login page, sessions and role checks (Flask)."""
