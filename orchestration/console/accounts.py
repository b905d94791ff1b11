"""Who may use the tag console and its API: named users with a role and a token, separate from ClickHouse's users.

A user is created with `tags console user add NAME --role viewer|editor|admin`, which prints the token once.
The warehouse keeps only the token's SHA-256 (a token is 32 random bytes, so a fast hash is safe to keep: there
is nothing to guess from it), in `console.users`, one row per change (ReplacingMergeTree on the user's name:
the latest row is the user now). Removing a user writes a row with `removed = 1`, so the history of who could
do what stays.

Roles, each with what the one below may do:
- viewer: reads tags, members, a customer's tags and audience sizes; never a customer's contact data;
- editor: also adds and removes manual tags, and sees contact data;
- admin: what an editor may do (users are managed on the command line, by whoever runs it; every row
  written names who wrote it).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

ROLES = ("viewer", "editor", "admin")
TABLE = "console.users"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,39}$")


class AccountError(ValueError):
    """A user or role that is wrong; the message names it."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        """True if this user's role is `role` or above it."""
        return ROLES.index(self.role) >= ROLES.index(role)


def ensure_table(client) -> None:
    client.command("CREATE DATABASE IF NOT EXISTS console")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (name String, role LowCardinality(String), token_sha256 String, "
        "removed UInt8, changed_by String, changed_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree(changed_at) ORDER BY name")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current(client) -> dict[str, tuple[str, str]]:
    """name -> (role, token hash) of every user not removed."""
    rows = client.query(f"SELECT name, argMax(role, changed_at), argMax(token_sha256, changed_at), "
                        f"argMax(removed, changed_at) FROM {TABLE} GROUP BY name").result_rows
    return {name: (role, token) for name, role, token, removed in rows if not removed}


def _write(client, name: str, role: str, token_sha256: str, removed: int, changed_by: str) -> None:
    client.insert(TABLE, [[name, role, token_sha256, removed, changed_by]],
                  column_names=["name", "role", "token_sha256", "removed", "changed_by"])


def add(client, name: str, role: str, changed_by: str) -> str:
    """Create a user; returns the token, which is shown once and stored only as its hash."""
    if not NAME_PATTERN.match(name):
        raise AccountError(f"user name {name!r}: 2-40 characters, lowercase letters, digits, '.', '_' or '-', "
                           "starting with a letter")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    ensure_table(client)
    if name in _current(client):
        raise AccountError(f"user {name!r} exists; `tags console user token {name}` gives it a new token")
    token = secrets.token_urlsafe(32)
    _write(client, name, role, hash_token(token), 0, changed_by)
    return token


def new_token(client, name: str, changed_by: str) -> str:
    """Replace a user's token (the old one stops working at once); returns the new one."""
    token = secrets.token_urlsafe(32)
    _write(client, name, _role_of(client, name), hash_token(token), 0, changed_by)
    return token


def remove(client, name: str, changed_by: str) -> None:
    """Remove a user: a row with removed = 1, so its token stops working at once and its history stays."""
    _write(client, name, _role_of(client, name), "0" * 64, 1, changed_by)


def _role_of(client, name: str) -> str:
    ensure_table(client)
    current = _current(client)
    if name not in current:
        raise AccountError(f"no console user {name!r} (see `tags console user list`)")
    return current[name][0]


def users(client) -> list[tuple[str, str]]:
    """(name, role) of every user, by name."""
    ensure_table(client)
    return sorted((name, role) for name, (role, _) in _current(client).items())


def authenticate(client, token: str) -> User | None:
    """The user whose token this is, or None."""
    return authenticate_digest(client, hash_token(token))


def authenticate_digest(client, digest: str) -> User | None:
    """The user whose token has this SHA-256 (what a console session keeps), or None; compared in constant time."""
    rows = client.query(
        f"SELECT name, argMax(role, changed_at), argMax(token_sha256, changed_at) AS token, argMax(removed, changed_at) "
        f"FROM {TABLE} GROUP BY name HAVING token = %(digest)s", parameters={"digest": digest}).result_rows
    for name, role, stored, removed in rows:
        if not removed and secrets.compare_digest(stored, digest):
            return User(name, role)
    return None
