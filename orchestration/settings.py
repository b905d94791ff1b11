"""Where things are and how to reach the warehouse: the one place that reads the environment.

The same environment variables drive profiles.yml, so dbt and the Python side always talk to the
same server. Nothing secret has a default here.

The embedded server's pipeline user (`default`) has a password: TAGS_WAREHOUSE_PASSWORD if given,
else the one `tags warehouse start` generated into the warehouse directory (WAREHOUSE_PASSWORD_FILE,
mode 0600). Whoever reads it hands it down in DBT_ENV_SECRET_TAGS_WAREHOUSE_PASSWORD, the variable
profiles.yml reads: dbt (in this process, or started by it as Dagster does) and `tags` commands
started from here then log in the same. dbt refuses `DBT_ENV_SECRET_` variables anywhere but in
profiles.yml, so no model or description can render the password, and scrubs them from its logs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def warehouse_dir() -> Path:
    """Data directory of the embedded server (gitignored)."""
    return Path(os.environ.get("WAREHOUSE_DIR", PROJECT_DIR / ".warehouse")).resolve()


def http_port() -> int:
    return int(os.environ.get("WAREHOUSE_HTTP_PORT", "8123"))


def tcp_port() -> int:
    return int(os.environ.get("WAREHOUSE_TCP_PORT", "9000"))


def dagster_home() -> Path:
    """The Dagster instance every run is recorded in (runs, check results, materializations and their metadata):
    DAGSTER_HOME if set, else .dagster in the project (gitignored), the one `tags ui` (dagster dev) opens too."""
    return Path(os.environ.get("DAGSTER_HOME") or PROJECT_DIR / ".dagster").resolve()


def switched_on(variable: str) -> bool:
    """An on/off switch in the environment (off when unset): NIGHTLY_SCHEDULE, INBOX_SENSOR; anything else is an error."""
    given = os.environ.get(variable, "off").strip().lower()
    if given not in ("on", "off"):
        raise ValueError(f"{variable} must be on or off, got {given!r}")
    return given == "on"


def inbox_dir() -> Path:
    """The watched folder of micro-batches (orchestration/dagster/inbox.py): TAGS_INBOX, else inbox/ in the project."""
    return Path(os.environ.get("TAGS_INBOX") or PROJECT_DIR / "inbox").resolve()


WAREHOUSE_MEMORY_VARIABLE = "WAREHOUSE_MAX_MEMORY_GIB"


def warehouse_max_memory_bytes() -> int:
    """The embedded server's memory limit (all queries together): WAREHOUSE_MAX_MEMORY_GIB, else 80% of this
    machine's RAM. Written into its config.xml with the engine's dynamic limit off: left to itself, the engine
    keeps recomputing its limit as 90% of (its resident memory + the memory the system has available), chDB's
    resident memory reads near zero, and after a scale-L demo load the page cache left it 10 GiB of 24, so the
    refresh's staging failed with MEMORY_LIMIT_EXCEEDED."""
    given = os.environ.get(WAREHOUSE_MEMORY_VARIABLE)
    if given:
        try:
            gib = float(given)
        except ValueError:
            raise ValueError(f"{WAREHOUSE_MEMORY_VARIABLE}={given!r} is not a number of GiB") from None
        if gib <= 0:
            raise ValueError(f"{WAREHOUSE_MEMORY_VARIABLE}={given!r} must be more than 0")
        return int(gib * 2**30)
    return int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


WAREHOUSE_PASSWORD_VARIABLE = "TAGS_WAREHOUSE_PASSWORD"
HANDED_DOWN_PASSWORD_VARIABLE = "DBT_ENV_SECRET_TAGS_WAREHOUSE_PASSWORD"  # read by profiles.yml
WAREHOUSE_PASSWORD_FILE = "pipeline_password"  # in the warehouse directory


def warehouse_password_file(root: Path | None = None) -> Path:
    return (root or warehouse_dir()) / WAREHOUSE_PASSWORD_FILE


def given_warehouse_password() -> str | None:
    """The pipeline password from the environment: set by the user, or handed down by the process that
    started this one (or by an earlier read in this process); None if neither."""
    return os.environ.get(WAREHOUSE_PASSWORD_VARIABLE) or os.environ.get(HANDED_DOWN_PASSWORD_VARIABLE) or None


def warehouse_password(root: Path | None = None) -> str | None:
    """The embedded server's pipeline password: from the environment, else from the warehouse directory's
    file; None before the first `tags warehouse start`."""
    given = given_warehouse_password()
    if given:
        return given
    try:
        return warehouse_password_file(root).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def warehouse_password_source(root: Path | None = None) -> str:
    """Where the pipeline password comes from, for people."""
    if os.environ.get(WAREHOUSE_PASSWORD_VARIABLE):
        return f"from {WAREHOUSE_PASSWORD_VARIABLE}"
    if warehouse_password_file(root).exists() or not os.environ.get(HANDED_DOWN_PASSWORD_VARIABLE):
        return f"in {warehouse_password_file(root)} (readable by you only)"
    return f"from {HANDED_DOWN_PASSWORD_VARIABLE}, set by the process that started this one"


def hand_down_warehouse_password(password: str | None) -> None:
    """Put the password where dbt (profiles.yml) and the processes started from here read it."""
    if password:
        os.environ[HANDED_DOWN_PASSWORD_VARIABLE] = password


def dbt_target() -> str:
    return os.environ.get("DBT_TARGET", "local")


# Targets served by the embedded server(s) of this machine (profiles.yml): `two_shards` is the
# embedded server on WAREHOUSE_HTTP_PORT as the first of two shards.
EMBEDDED_TARGETS = ("local", "two_shards")


def on_cluster_ddl() -> bool:
    """Whether DDL on sharded tables runs ON CLUSTER: everywhere but on the embedded two shards (no
    Keeper there), the same rule as cluster_ddl_enabled() in macros/cluster/cluster.sql for dbt."""
    return dbt_target() != "two_shards"


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    user: str
    password: str
    secure: bool

    def describe(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.user}@{self.host}:{self.port}"


def connection() -> Connection:
    """HTTP connection parameters of the active dbt target, read from the same variables as profiles.yml."""
    if dbt_target() in EMBEDDED_TARGETS:
        password = warehouse_password()
        hand_down_warehouse_password(password)
        return Connection("127.0.0.1", http_port(), "default", password or "", False)
    return Connection(
        host=os.environ["CLICKHOUSE_HOST"],
        port=int(os.environ.get("CLICKHOUSE_PORT", "8443")),
        user=os.environ.get("CLICKHOUSE_USER", "default"),
        password=os.environ.get("CLICKHOUSE_PASSWORD", ""),
        secure=os.environ.get("CLICKHOUSE_SECURE", "true").lower() in ("1", "true", "yes"),
    )


@dataclass(frozen=True)
class AlertChannels:
    """Where a failed night is told (orchestration/alerts.py); a channel without its variables is off."""
    slack_webhook: str  # TAGS_ALERT_SLACK_WEBHOOK: a Slack incoming webhook's URL
    smtp_host: str  # TAGS_ALERT_SMTP_HOST (with TAGS_ALERT_EMAIL_TO): e-mail through this server
    smtp_port: int  # TAGS_ALERT_SMTP_PORT, default 25 (STARTTLS is used when the server offers it)
    smtp_user: str  # TAGS_ALERT_SMTP_USER / TAGS_ALERT_SMTP_PASSWORD: a login, when the server wants one
    smtp_password: str
    email_from: str  # TAGS_ALERT_EMAIL_FROM, default customer-tags@<this host>
    email_to: tuple[str, ...]  # TAGS_ALERT_EMAIL_TO: addresses separated by commas
    report_url: str  # TAGS_REPORT_URL: where people open the quality report, default its file:// path
    dagster_url: str  # TAGS_DAGSTER_URL: the Dagster UI's address, for a link to the run (none without it)


def alert_channels(report_file: Path) -> AlertChannels:
    """The alert channels from the environment; an e-mail channel missing its recipients is an error naming them."""
    env = os.environ.get
    smtp_host, email_to = env("TAGS_ALERT_SMTP_HOST", "").strip(), env("TAGS_ALERT_EMAIL_TO", "").strip()
    if bool(smtp_host) != bool(email_to):
        raise ValueError("e-mail alerts need both TAGS_ALERT_SMTP_HOST and TAGS_ALERT_EMAIL_TO; only "
                         f"{'TAGS_ALERT_SMTP_HOST' if smtp_host else 'TAGS_ALERT_EMAIL_TO'} is set")
    port = env("TAGS_ALERT_SMTP_PORT", "25").strip()
    if not port.isdigit():
        raise ValueError(f"TAGS_ALERT_SMTP_PORT must be a port number, got {port!r}")
    import socket

    return AlertChannels(
        slack_webhook=env("TAGS_ALERT_SLACK_WEBHOOK", "").strip(), smtp_host=smtp_host, smtp_port=int(port),
        smtp_user=env("TAGS_ALERT_SMTP_USER", ""), smtp_password=env("TAGS_ALERT_SMTP_PASSWORD", ""),
        email_from=env("TAGS_ALERT_EMAIL_FROM", "").strip() or f"customer-tags@{socket.getfqdn()}",
        email_to=tuple(a.strip() for a in email_to.split(",") if a.strip()),
        report_url=env("TAGS_REPORT_URL", "").strip() or report_file.resolve().as_uri(),
        dagster_url=env("TAGS_DAGSTER_URL", "").strip().rstrip("/"))


def parse_as_of(value: str | None) -> dt.date:
    """The as_of date of a run: an ISO date, default today, at most tomorrow (a time zone ahead)."""
    if value is None or value == "":
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # well written, but no such day: say which part is wrong
            raise ValueError(f"as_of {value} does not exist: {_why_no_such_day(value)}") from None
        raise ValueError(f"as_of must be a date written YYYY-MM-DD, got {value!r}") from None
    if day > dt.date.today() + dt.timedelta(days=1):
        # every window would count days that have not happened yet (days since the last order, ...)
        raise ValueError(f"as_of {day} is in the future (today is {dt.date.today()}): tags are computed as of a day that has begun")
    return day


def _why_no_such_day(value: str) -> str:
    year, month, day = (int(part) for part in value.split("-"))
    if not 1 <= month <= 12:
        return f"there is no month {month:02d}"
    if day == 0:
        return "days start at 01"
    return f"{calendar.month_name[month]} {year} has {calendar.monthrange(year, month)[1]} days"


# A command that runs dbt without asking for a client first (`tags docs`) finds the password too.
if dbt_target() in EMBEDDED_TARGETS:
    try:
        hand_down_warehouse_password(warehouse_password())
    except OSError:
        pass  # an unreadable file: the first client says so (db.client's login error names it)
