"""Alerts from the nightly job (orchestration/alerts.py sends them): a failed step, and a night published with tags
held back by their failed checks (sent by the publish step, assets.py). The hook is on the `nightly_refresh` job, the
one the command line, the schedule and its backfills run, on the intraday lane's `intraday_refresh` (intraday.py)
and on `new_tags_refresh` (new_tags.py); Dagster's own asset job (assets materialized by hand in the UI) does not
carry it."""

from __future__ import annotations

import dagster as dg
from clickhouse_connect.driver.exceptions import ClickHouseError

from orchestration import alerts
from orchestration.warehouse import db

# what a failed step leaves published: before or at publishing, the night before stays what BI reads
AFTER_PUBLISHING = ("quality_report", "published_freshness")


def failed_checks(instance: dg.DagsterInstance, run_id: str, client=None) -> list[str]:
    """`asset check: message` of every check of the run that failed, in the order they ran; a quality check's
    message (observed against expected) is the one quality.check_results keeps, when the warehouse answers."""
    recorded = {}
    if client is not None:
        from orchestration.quality import quality

        try:
            recorded = quality.results(client, run_id)
        except ClickHouseError:  # the warehouse may be why the night failed: alert with Dagster's figures only
            recorded = {}
    lines = []
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        message = recorded.get(evaluation.check_name, {}).get("message") or \
            getattr(evaluation.metadata.get("message") or evaluation.metadata.get("observed"), "value", "failed")
        lines.append(f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}: {message}")
    return lines


def tell(log, alert: alerts.Alert) -> None:
    """Send the alert; a channel that fails is a warning in the run's log, never a failed run."""
    try:
        sent = alerts.send(alert)
    except (RuntimeError, ValueError) as error:
        log.warning(str(error))
        return
    if sent:
        log.info(f"alert sent ({', '.join(sent)}): {alert.subject}")


@dg.failure_hook(name="alert_on_failure")
def alert_on_failure(context: dg.HookContext) -> None:
    run = context.instance.get_run_by_id(context.run_id)
    as_of = run.tags.get("dagster/partition", "?") if run else "?"
    step = context.step_key
    from orchestration.dagster.intraday import JOB_NAME as INTRADAY_JOB  # these modules import this one
    from orchestration.dagster.new_tags import JOB_NAME as NEW_TAGS_JOB

    over_night = {INTRADAY_JOB: "the intraday lane over ", NEW_TAGS_JOB: "new tags over "}.get(run.job_name if run else "", "")
    outcome = ("the night was published; this step after it failed" if step in AFTER_PUBLISHING
               else "nothing was published: BI keeps reading what it read" if over_night
               else "nothing was published: BI keeps reading the last published night")
    error = context.op_exception
    reason = (str(error).strip().splitlines() or ["failed"])[0] if error else "failed"
    try:
        client = db.client()
    except (db.WarehouseUnreachable, ClickHouseError):  # the warehouse may be why the night failed
        client = None
    tell(context.log, alerts.Alert(
        subject=f"customer tags: {over_night}the night of {as_of} failed at {step}",
        lines=[f"{step}: {reason}", outcome, *failed_checks(context.instance, context.run_id, client)],
        run_id=context.run_id))
