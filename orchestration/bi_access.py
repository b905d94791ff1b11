"""The read-only door for BI tools: one ClickHouse user that can read tags, audiences and quality.

The user (BI_USER, password from the environment variable TAGS_BI_PASSWORD) can SELECT from the
BI databases and nothing else: no raw or staging tables (where personal contact data lives), no
writes, no DDL; its profile is readonly = 2 (BI tools may still set query settings).

- Embedded server: users defined in SQL need a writable access storage the embedded engine does
  not offer, so the user is written into the users.xml its config.xml names, with the password's
  SHA-256 (never the password itself) and the grants below.
- Prod target: the same grants as SQL (`tags bi grants`, `--apply` runs them), again with the
  password's hash only.
One list of grants feeds both, so the two targets cannot drift apart.
"""

from __future__ import annotations

import hashlib
import os
from xml.sax.saxutils import escape

BI_USER = "bi_reader"
BI_PROFILE = "bi_readonly"
PASSWORD_VARIABLE = "TAGS_BI_PASSWORD"
BI_DATABASES = ("tags", "audiences", "quality")
GRANTS = tuple(f"GRANT SELECT ON {database}.*" for database in BI_DATABASES)
PROFILE_SETTINGS = {"readonly": 2, "max_execution_time": 120}


def password() -> str | None:
    """The BI user's password from the environment, or None when it is not set (no BI user then)."""
    return os.environ.get(PASSWORD_VARIABLE) or None


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def users_xml(bi_password: str | None) -> str:
    """users.xml of the embedded server: `default` (loopback, the pipeline's own user) and, when a
    password is given, the read-only BI user."""
    loopback = "<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
    profile = "".join(f"<{name}>{value}</{name}>" for name, value in PROFILE_SETTINGS.items())
    bi_user = ""
    if bi_password:
        grants = "".join(f"<query>{escape(g)}</query>" for g in GRANTS)
        bi_user = (f"<{BI_USER}><password_sha256_hex>{_sha256(bi_password)}</password_sha256_hex>{loopback}"
                   f"<profile>{BI_PROFILE}</profile><quota>default</quota><grants>{grants}</grants></{BI_USER}>")
    return f"""<clickhouse>
    <profiles><default></default><{BI_PROFILE}>{profile}</{BI_PROFILE}></profiles>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
    <users>
        <default><password></password>{loopback}<profile>default</profile><quota>default</quota>
            <access_management>1</access_management></default>
        {bi_user}
    </users>
</clickhouse>
"""


def prod_statements(bi_password: str) -> list[str]:
    """SQL that creates the same user, profile and grants on a ClickHouse server with SQL access control."""
    settings = ", ".join(f"{name} = {value}" for name, value in PROFILE_SETTINGS.items())
    return [
        f"CREATE SETTINGS PROFILE IF NOT EXISTS {BI_PROFILE} SETTINGS {settings}",
        f"CREATE USER IF NOT EXISTS {BI_USER} IDENTIFIED WITH sha256_hash BY '{_sha256(bi_password)}' "
        f"SETTINGS PROFILE '{BI_PROFILE}'",
        f"REVOKE ALL ON *.* FROM {BI_USER}",
        *(f"{grant} TO {BI_USER}" for grant in GRANTS),
    ]
