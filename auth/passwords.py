"""Password hashes (werkzeug's scrypt); plain passwords are never stored."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from domain.errors import AccountError

MIN_LENGTH = 8


def hash_password(plain: str) -> str:
    """A salted hash of a new password, which must be at least MIN_LENGTH characters."""
    if len(plain) < MIN_LENGTH:
        raise AccountError(f"passwords are at least {MIN_LENGTH} characters")
    return generate_password_hash(plain)


def password_matches(password_hash: str, plain: str) -> bool:
    """True when plain is the password the hash was made from."""
    try:
        return check_password_hash(password_hash, plain)
    except ValueError:  # a hash of an unknown method
        return False


# Checked against when the name is unknown, so a wrong name costs as long as a wrong password.
DUMMY_HASH = generate_password_hash("not a password of anyone")
