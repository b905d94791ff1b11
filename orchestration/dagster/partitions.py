"""The nightly job's partitions: one per as_of day.

A run of the job is one partition, its key the as_of (YYYY-MM-DD); every asset reads it once with
as_of_of(context). The partitions run from TAGS_FIRST_AS_OF (default 2025-01-01) to the current day in
NIGHTLY_TIMEZONE (the day a night's run computes as of, schedules.py). The default first day is
before every date the demo and the tests use and more than the history keeps
(TAG_HISTORY_RETENTION_DAYS, 400 days by default), so any day BI can still read can be backfilled;
set TAGS_FIRST_AS_OF to the first day of your data to keep the list short.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings

import dagster as dg

# backfill_policy is still "beta" in Dagster; we rely on it knowingly (one partition per run, below), so its
# warning would only repeat itself in every command's and every run's output.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

FIRST_AS_OF_VARIABLE = "TAGS_FIRST_AS_OF"
DEFAULT_FIRST_AS_OF = "2025-01-01"
KEY_FORMAT = "%Y-%m-%d"  # the key is the as_of as dbt and the `tags` commands write it


def first_as_of() -> dt.date:
    value = os.environ.get(FIRST_AS_OF_VARIABLE, DEFAULT_FIRST_AS_OF)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{FIRST_AS_OF_VARIABLE} must be a date written YYYY-MM-DD, got {value!r}") from None


def timezone() -> str:
    return os.environ.get("NIGHTLY_TIMEZONE", "UTC")


# end_offset=1: today's partition exists from midnight on, as the night's run computes as of the day it runs.
AS_OF_PARTITIONS = dg.DailyPartitionsDefinition(start_date=first_as_of().isoformat(), fmt=KEY_FORMAT,
                                                timezone=timezone(), end_offset=1)
# One partition per run: a run's id is what its rows in the tag store carry and what publishing makes visible.
ONE_DAY_PER_RUN = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


def as_of_of(context) -> dt.date:
    """The as_of of the running asset or check: its partition key."""
    context = getattr(context, "op_execution_context", context)
    return dt.datetime.strptime(context.partition_key, KEY_FORMAT).date()


# The run's cutoff (var cutoff, macros/utils/as_of.sql): the one instant it is evaluated at, as a run tag written
# in the warehouse's time zone. The nightly schedule sets its tick; without the tag a run is evaluated at the end
# of its as_of day, so a replay by date gives the same tags whenever it runs.
CUTOFF_TAG = "cutoff"
CUTOFF_FORMAT = "%Y-%m-%d %H:%M:%S"


def day_end(as_of: dt.date) -> dt.datetime:
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def parse_cutoff(text: str, as_of: dt.date) -> dt.datetime:
    """'YYYY-MM-DD HH:MM[:SS]' -> the cutoff of a run as of as_of, or ValueError saying what is wrong."""
    try:
        cutoff = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"cutoff must be written 'YYYY-MM-DD HH:MM[:SS]', got {text!r}") from None
    if cutoff.tzinfo is not None:
        raise ValueError(f"cutoff {text!r} names a time zone: write it in the warehouse's time zone, without one")
    if cutoff <= dt.datetime.combine(as_of, dt.time()):
        raise ValueError(f"cutoff {text} is not after the start of as_of {as_of}: a run is evaluated after its day began")
    return cutoff.replace(microsecond=0)


def cutoff_of(context) -> dt.datetime:
    """The cutoff of the running asset or check: its run's cutoff tag, or the end of its as_of day."""
    as_of = as_of_of(context)
    given = getattr(context, "op_execution_context", context).run.tags.get(CUTOFF_TAG)
    return parse_cutoff(given, as_of) if given else day_end(as_of)


def partition_key(as_of: dt.date) -> str:
    """The partition of as_of, or ValueError naming the partitions there are."""
    key = as_of.strftime(KEY_FORMAT)
    last = AS_OF_PARTITIONS.get_last_partition_key()
    if not AS_OF_PARTITIONS.has_partition_key(key):
        raise ValueError(f"as_of {key} is not a partition of the nightly job: they run from {first_as_of()} "
                         f"({FIRST_AS_OF_VARIABLE}) to {last} (today in NIGHTLY_TIMEZONE {timezone()})")
    return key
