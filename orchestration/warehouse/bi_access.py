"""The read-only door for BI tools: one ClickHouse user that can read tags, audiences and quality.

The user (BI_USER, password from the environment variable TAGS_BI_PASSWORD) can SELECT from the
BI databases and nothing else: no raw or staging tables (where personal contact data lives), no
writes, no DDL. Its settings profile (BI_PROFILE) is readonly = 2, so BI tools may still set query
settings, but the limits below are constraints: a query may lower them, never raise them or turn
them off (0, "unlimited", is below the minimum of 1). A quota (BI_QUOTA) caps queries and execution
time per hour. A query whose HTTP client hangs up is cancelled
(cancel_http_readonly_queries_on_client_close, which the user cannot change); on the native port
the server cancels a query whose connection closes by itself.

Every limit has a default and an environment variable (LIMITS, QUOTA_LIMITS; README "BI access"),
read when the embedded server starts and when `tags bi grants` runs.

- Embedded server: users defined in SQL need a writable access storage the embedded engine does
  not offer, so the user is written into the users.xml its config.xml names, with the password's
  SHA-256 (never the password itself), the profile, the quota and the grants below. The same file
  holds the pipeline's own user `default` (warehouse.py says how it logs in).
- Prod target: the same user, profile, quota and grants as SQL (`tags bi grants`, `--apply` runs
  them), again with the password's hash only; re-applying brings changed limits.
One list of grants and limits feeds both, so the two targets cannot drift apart.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from xml.sax.saxutils import escape

BI_USER = "bi_reader"
BI_PROFILE = "bi_readonly"
BI_QUOTA = "bi_reader_quota"
PASSWORD_VARIABLE = "TAGS_BI_PASSWORD"
BI_DATABASES = ("tags", "audiences", "quality")
GRANTS = tuple(f"GRANT SELECT ON {database}.*" for database in BI_DATABASES)
GIB = 2**30


@dataclass(frozen=True)
class Limit:
    name: str  # the ClickHouse setting, or the quota's resource
    variable: str
    default: int
    meaning: str

    def value(self) -> int:
        raw = os.environ.get(self.variable, "").strip()
        if not raw:
            return self.default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{self.variable} must be a whole number, at least 1 ({self.meaning}); got {raw!r}")
        return value


# Maximums of the BI user's queries (constraints MIN 1 MAX value: lower is allowed, 0 is not).
LIMITS = (
    Limit("max_execution_time", "TAGS_BI_MAX_EXECUTION_TIME", 120, "seconds one query may run"),
    Limit("max_memory_usage", "TAGS_BI_MAX_MEMORY_USAGE", 2 * GIB, "bytes of memory one query may use"),
    Limit("max_memory_usage_for_user", "TAGS_BI_MAX_MEMORY_USAGE_FOR_USER", 4 * GIB,
          "bytes of memory all BI queries running at once may use"),
    Limit("max_threads", "TAGS_BI_MAX_THREADS", 2, "threads one query may use"),
)
# Per hour, for the user.
QUOTA_INTERVAL_SECONDS = 3600
QUOTA_LIMITS = (
    Limit("queries", "TAGS_BI_QUERIES_PER_HOUR", 50_000, "queries per hour"),
    Limit("execution_time", "TAGS_BI_EXECUTION_SECONDS_PER_HOUR", 3600, "seconds of query execution per hour"),
)
# Fixed: the user can neither change them nor turn them off.
FIXED_SETTINGS = {"cancel_http_readonly_queries_on_client_close": 1}


def password() -> str | None:
    """The BI user's password from the environment, or None when it is not set (no BI user then)."""
    return os.environ.get(PASSWORD_VARIABLE) or None


def limits() -> dict[str, int]:
    """The BI user's maximums, from the environment or their defaults (ValueError names a bad variable)."""
    return {limit.name: limit.value() for limit in LIMITS}


def quota() -> dict[str, int]:
    return {limit.name: limit.value() for limit in QUOTA_LIMITS}


def describe_limits() -> str:
    """One line for people: the limits and the quota in force."""
    values, per_hour = limits(), quota()
    return (f"at most {values['max_execution_time']} s, {values['max_memory_usage'] / GIB:g} GiB "
            f"({values['max_memory_usage_for_user'] / GIB:g} GiB for all its queries) and "
            f"{values['max_threads']} threads per query; {per_hour['queries']:,} queries and "
            f"{per_hour['execution_time']:,} s of execution per hour")


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _profile_xml() -> str:
    values = limits()
    settings = {"readonly": 2, **values, **FIXED_SETTINGS}
    constraints = "".join(f"<{name}><min>1</min><max>{value}</max></{name}>" for name, value in values.items())
    constraints += "".join(f"<{name}><const/></{name}>" for name in FIXED_SETTINGS)
    return ("".join(f"<{name}>{value}</{name}>" for name, value in settings.items())
            + f"<constraints>{constraints}</constraints>")


def _quota_xml() -> str:
    limits_xml = "".join(f"<{name}>{value}</{name}>" for name, value in quota().items())
    return (f"<{BI_QUOTA}><interval><duration>{QUOTA_INTERVAL_SECONDS}</duration>{limits_xml}"
            f"<errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows></interval></{BI_QUOTA}>")


def users_xml(bi_password: str | None, pipeline_password: str | None = None,
              pipeline_authenticator: str | None = None) -> str:
    """users.xml of the embedded server: `default` (loopback, the pipeline's own user) and, when a
    password is given, the read-only BI user with its profile and quota.

    `default` logs in with pipeline_password (its SHA-256 is written), or through the HTTP
    authenticator named pipeline_authenticator (<http_authentication_servers> of config.xml), or,
    given neither, with no password."""
    loopback = "<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
    if pipeline_authenticator:
        pipeline_login = (f"<http_authentication><server>{escape(pipeline_authenticator)}</server>"
                          "<scheme>basic</scheme></http_authentication>")
    elif pipeline_password:
        pipeline_login = f"<password_sha256_hex>{_sha256(pipeline_password)}</password_sha256_hex>"
    else:
        pipeline_login = "<password></password>"
    bi_profile = bi_quota = bi_user = ""
    if bi_password:
        grants = "".join(f"<query>{escape(g)}</query>" for g in GRANTS)
        bi_profile = f"<{BI_PROFILE}>{_profile_xml()}</{BI_PROFILE}>"
        bi_quota = _quota_xml()
        bi_user = (f"<{BI_USER}><password_sha256_hex>{_sha256(bi_password)}</password_sha256_hex>{loopback}"
                   f"<profile>{BI_PROFILE}</profile><quota>{BI_QUOTA}</quota><grants>{grants}</grants></{BI_USER}>")
    return f"""<clickhouse>
    <profiles><default></default>{bi_profile}</profiles>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default>
        {bi_quota}</quotas>
    <users>
        <default>{pipeline_login}{loopback}<profile>default</profile><quota>default</quota>
            <access_management>1</access_management></default>
        {bi_user}
    </users>
</clickhouse>
"""


def _profile_sql() -> str:
    values = limits()
    return ", ".join(["readonly = 2", *(f"{name} = {value} MIN 1 MAX {value}" for name, value in values.items()),
                      *(f"{name} = {value} CONST" for name, value in FIXED_SETTINGS.items())])


def _quota_sql() -> str:
    maximums = ", ".join(f"{name} = {value}" for name, value in quota().items())
    return f"KEYED BY user_name FOR INTERVAL {QUOTA_INTERVAL_SECONDS} second MAX {maximums} TO {BI_USER}"


def prod_statements(bi_password: str) -> list[str]:
    """SQL that creates the same user, profile, quota and grants on a ClickHouse server with SQL access
    control. Safe to run again: the ALTERs bring changed limits to what exists."""
    profile = _profile_sql()
    return [
        f"CREATE SETTINGS PROFILE IF NOT EXISTS {BI_PROFILE} SETTINGS {profile}",
        f"ALTER SETTINGS PROFILE {BI_PROFILE} SETTINGS {profile}",
        f"CREATE USER IF NOT EXISTS {BI_USER} IDENTIFIED WITH sha256_hash BY '{_sha256(bi_password)}' "
        f"SETTINGS PROFILE '{BI_PROFILE}'",
        f"ALTER USER {BI_USER} SETTINGS PROFILE '{BI_PROFILE}'",
        f"CREATE QUOTA IF NOT EXISTS {BI_QUOTA} {_quota_sql()}",
        f"ALTER QUOTA {BI_QUOTA} {_quota_sql()}",
        f"REVOKE ALL ON *.* FROM {BI_USER}",
        *(f"{grant} TO {BI_USER}" for grant in GRANTS),
    ]
