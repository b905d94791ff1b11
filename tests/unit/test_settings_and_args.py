import datetime as dt
import json

import pytest

from orchestration import settings
from orchestration.dagster import dbt_runner


def test_as_of_parses_iso_dates_and_defaults_to_today():
    assert settings.parse_as_of("2026-02-28") == dt.date(2026, 2, 28)
    assert settings.parse_as_of("") == dt.date.today()
    assert settings.parse_as_of(None) == dt.date.today()


@pytest.mark.parametrize("bad", ["yesterday", "2026/01/01", "20260101x", "2026-2-3"])
def test_bad_as_of_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=f"as_of must be a date written YYYY-MM-DD, got '{bad}'"):
        settings.parse_as_of(bad)


@pytest.mark.parametrize("day, why", [("2026-02-30", "February 2026 has 28 days"), ("2028-02-30", "February 2028 has 29 days"),
                                      ("2026-04-31", "April 2026 has 30 days"), ("2026-13-01", "there is no month 13"),
                                      ("2026-05-00", "days start at 01")])
def test_a_well_written_day_that_does_not_exist_is_named_as_such(day, why):
    with pytest.raises(ValueError, match=f"^as_of {day} does not exist: {why}$"):
        settings.parse_as_of(day)


def test_an_as_of_after_tomorrow_is_refused_tomorrow_is_not():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert settings.parse_as_of(tomorrow.isoformat()) == tomorrow  # a time zone ahead of this machine
    later = tomorrow + dt.timedelta(days=1)
    with pytest.raises(ValueError, match=f"as_of {later} is in the future"):
        settings.parse_as_of(later.isoformat())


def test_the_refresh_lock_is_reentrant_here_and_refuses_another_process(tmp_path, monkeypatch):
    import subprocess
    import sys

    from orchestration.warehouse import refresh_lock

    monkeypatch.setenv("DBT_TARGET", "local")
    monkeypatch.setenv("WAREHOUSE_DIR", str(tmp_path))
    other = [sys.executable, "-c", "from orchestration.warehouse import refresh_lock\nwith refresh_lock.held('other'): pass"]
    with refresh_lock.held("first") as path:
        with refresh_lock.held("inner"):  # tags refresh holds it, then the job's resource takes it again
            assert "run first" in path.read_text()
        refused = subprocess.run(other, capture_output=True, text=True, cwd=settings.PROJECT_DIR)
        assert refused.returncode == 1
        assert "another refresh is writing to the warehouse at http://default@127.0.0.1" in refused.stderr
        assert "run first" in refused.stderr and f"lock {path}" in refused.stderr
    assert subprocess.run(other, cwd=settings.PROJECT_DIR).returncode == 0  # released
    assert path.read_text() == ""


def test_retry_waits_double_from_the_configured_base(monkeypatch):
    from orchestration.warehouse import db

    monkeypatch.delenv("WAREHOUSE_RETRY_SECONDS", raising=False)
    assert db.retry_waits() == [5, 10, 20]
    monkeypatch.setenv("WAREHOUSE_RETRY_SECONDS", "0.5")
    assert db.retry_waits() == [0.5, 1, 2]
    monkeypatch.setenv("WAREHOUSE_RETRY_SECONDS", "soon")
    with pytest.raises(ValueError, match="WAREHOUSE_RETRY_SECONDS must be a number of seconds, got 'soon'"):
        db.retry_waits()


def test_dbt_args_carry_the_selectors_and_no_vars():
    args = dbt_runner.dbt_args("build", ["stg_orders", "tag:daily"])
    assert args[0] == "build"
    assert "--vars" not in args  # the run's values go in the environment (run_values): --vars would reparse
    assert args[-4:] == ["--select", "stg_orders", "--select", "tag:daily"]


def test_local_connection_follows_the_warehouse_port(monkeypatch):
    monkeypatch.setenv("DBT_TARGET", "local")
    monkeypatch.setenv("WAREHOUSE_HTTP_PORT", "18999")
    assert settings.connection().port == 18999


def test_prod_connection_reads_only_the_environment(monkeypatch):
    monkeypatch.setenv("DBT_TARGET", "prod")
    monkeypatch.setenv("CLICKHOUSE_HOST", "ch.example.internal")
    monkeypatch.setenv("CLICKHOUSE_PASSWORD", "s3cret")
    conn = settings.connection()
    assert (conn.host, conn.port, conn.password, conn.secure) == ("ch.example.internal", 8443, "s3cret", True)
    assert "s3cret" not in conn.describe()


@pytest.mark.parametrize("value", ["0", "-3", "ten", "1.5"])
def test_retention_must_be_whole_days(monkeypatch, value):
    from orchestration.publishing import publish

    monkeypatch.setenv("TAG_HISTORY_RETENTION_DAYS", value)
    with pytest.raises(ValueError, match=f"TAG_HISTORY_RETENTION_DAYS must be a whole number of days, at least 1; got '{value}'"):
        publish.retention_days()


def test_run_values_carry_as_of_and_the_run_id_when_given():
    assert json.loads(dbt_runner.run_values(dt.date(2026, 11, 23))) == {"as_of": "2026-11-23"}
    assert json.loads(dbt_runner.run_values(dt.date(2026, 11, 23), run_id="20261123-020000-abc")) == {
        "as_of": "2026-11-23", "run_id": "20261123-020000-abc"}


@pytest.mark.parametrize("args, message", [
    (["--from", "2026-11-25", "--to", "2026-11-23"], "--to 2026-11-23 is before --from 2026-11-25"),
    (["--from", "2026-11-23"], "--from and --to go together"),
    (["--as-of", "2026-11-23", "--to", "2026-11-25"], "give either --as-of (repeatable) or --from/--to, not both"),
    (["--as-of", "2026-11-23", "--as-of", "2024-06-01"], "as_of 2024-06-01 is not a partition of the nightly job: "
                                                          "they run from 2025-01-01 (TAGS_FIRST_AS_OF)"),
])
def test_refresh_days_are_checked_before_anything_runs(args, message, monkeypatch):
    from typer.testing import CliRunner

    from orchestration import cli

    monkeypatch.delenv("TAGS_FIRST_AS_OF", raising=False)
    result = CliRunner().invoke(cli.app, ["refresh", *args])
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split())


def test_the_nightly_schedule_is_off_unless_switched_on(monkeypatch):
    import dagster as dg

    from orchestration.dagster import schedules

    job = schedules.nightly_job()
    monkeypatch.delenv(schedules.SWITCH_VARIABLE, raising=False)
    assert schedules.nightly_schedule(job).default_status == dg.DefaultScheduleStatus.STOPPED
    monkeypatch.setenv(schedules.SWITCH_VARIABLE, "on")
    assert schedules.nightly_schedule(job).default_status == dg.DefaultScheduleStatus.RUNNING
    monkeypatch.setenv(schedules.SWITCH_VARIABLE, "yes please")
    with pytest.raises(ValueError, match="NIGHTLY_SCHEDULE must be on or off, got 'yes please'"):
        schedules.nightly_schedule(job)


def test_the_nightly_schedule_runs_the_day_that_ended_at_its_tick():
    import dagster as dg

    from orchestration.dagster.definitions import defs

    schedule = defs.resolve_schedule_def("nightly")
    night = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone.utc)
    requests = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=night,
                                                                repository_def=defs.get_repository_def())).run_requests
    assert [(r.partition_key, r.run_key, r.tags["cutoff"]) for r in requests] == [
        ("2026-11-23", "2026-11-23", "2026-11-24 02:00:00")]


def test_the_intraday_sensor_is_off_unless_switched_on_and_its_job_is_not_the_nights(monkeypatch):
    import dagster as dg

    from orchestration.dagster import intraday
    from orchestration.dagster.definitions import defs

    job = intraday.intraday_job()
    monkeypatch.delenv(intraday.SWITCH_VARIABLE, raising=False)
    monkeypatch.delenv(intraday.INTERVAL_VARIABLE, raising=False)
    assert intraday.intraday_sensor(job).default_status == dg.DefaultSensorStatus.STOPPED
    assert intraday.intraday_sensor(job).minimum_interval_seconds == 60
    monkeypatch.setenv(intraday.SWITCH_VARIABLE, "on")
    assert intraday.intraday_sensor(job).default_status == dg.DefaultSensorStatus.RUNNING
    monkeypatch.setenv(intraday.INTERVAL_VARIABLE, "5")
    with pytest.raises(ValueError, match="INTRADAY_INTERVAL_SECONDS must be a whole number of seconds, at least 30; got '5'"):
        intraday.intraday_sensor(job)
    # the nightly job builds every asset but the lane's; the lane's job only its two
    assert set(defs.resolve_job_def(intraday.JOB_NAME).graph.node_names()) == {"intraday_tags", "published_intraday_tags"}
    assert not {"intraday_tags", "published_intraday_tags"} & set(defs.resolve_job_def("nightly_refresh").graph.node_names())
    assert not {"new_tags", "published_new_tags"} & set(defs.resolve_job_def("nightly_refresh").graph.node_names())


def test_an_intraday_run_builds_its_tags_and_what_records_and_checks_them_not_the_other_tags():
    import json

    from orchestration.catalog import catalog
    from orchestration.dagster import intraday, refinement
    from orchestration.dagster.project import PROJECT

    manifest = json.loads(PROJECT.manifest_path.read_text())
    keys = intraday.lane_tags(catalog.load())
    assert keys == ["awaiting_payment", "complaint_open", "paid_awaiting_shipment", "urgent_ticket"]
    chosen = refinement.dbt_selection(manifest, intraday.models(keys), keys)
    assert {"base_orders", "customer_state_at_cutoff", "tag_awaiting_payment", "tag_snapshots", "tag_quality_figures",
            "quality__awaiting_payment__coverage", "one_value_per_customer_in_run_tag_snapshots"} <= set(chosen)
    # no other tag's model, features, or another tag's check (they sit on tag_quality_figures too)
    assert not {"tag_vip", "customer_features", "all_tags", "profile_snapshots", "quality__vip__coverage",
                "accuracy_sample_features"} & set(chosen)
    assert not [name for name in chosen if name.startswith("quality__") and name.split("__")[1] not in keys]


def test_new_tags_are_refused_unless_new_built_catalog_rows_and_build_only_themselves():
    import json

    from orchestration.catalog import catalog
    from orchestration.dagster import new_tags, refinement
    from orchestration.dagster.project import PROJECT

    rows = catalog.load()
    assert "names no tag" in new_tags.refusal([], rows, set())
    assert "does not list the tags it built" in new_tags.refusal(["vip"], rows, None)
    assert new_tags.refusal(["no_such_tag"], rows, set()).startswith("no_such_tag: no built catalog row has this key")
    assert "the published night built it already" in new_tags.refusal(["vip", "churn_risk"], rows, {"vip"})
    assert new_tags.refusal(["vip"], rows, {"churn_risk"}) is None
    manifest = json.loads(PROJECT.manifest_path.read_text())
    chosen = refinement.dbt_selection(manifest, {"tag_catalog", "all_tags", "tag_vip", *refinement.STORE_MODELS,
                                                 *refinement.QUALITY_MODELS}, ["vip"])
    assert {"tag_catalog", "tag_vip", "tag_snapshots", "quality__vip__coverage",
            "one_value_per_customer_in_run_tag_snapshots"} <= set(chosen)
    assert not {"tag_churn_risk", "customer_features", "profile_snapshots", "quality__churn_risk__coverage"} & set(chosen)


def test_a_cutoff_is_after_the_start_of_its_day():
    from orchestration.dagster.partitions import day_end, parse_cutoff

    assert parse_cutoff("2026-11-24 02:00", dt.date(2026, 11, 23)) == dt.datetime(2026, 11, 24, 2, 0)
    assert day_end(dt.date(2026, 11, 23)) == dt.datetime(2026, 11, 24)
    with pytest.raises(ValueError, match="is not after the start of as_of 2026-11-23"):
        parse_cutoff("2026-11-23 00:00", dt.date(2026, 11, 23))
    with pytest.raises(ValueError, match="YYYY-MM-DD HH:MM"):
        parse_cutoff("tonight", dt.date(2026, 11, 23))


def test_keep_parse_leaves_the_builds_parse_in_target(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from orchestration.dagster import dbt_runner

    build_dir = tmp_path / "dbt_models-run"
    build_dir.mkdir()
    (build_dir / "partial_parse.msgpack").write_bytes(b"parsed")
    monkeypatch.setattr(dbt_runner, "TARGET_DIR", tmp_path / "target")
    dbt_runner.keep_parse(SimpleNamespace(target_path=build_dir))
    assert (tmp_path / "target" / "partial_parse.msgpack").read_bytes() == b"parsed"
    assert [p.name for p in (tmp_path / "target").iterdir()] == ["partial_parse.msgpack"]  # nothing staged is left


def test_keep_parse_that_cannot_write_warns_and_lets_the_night_go_on(tmp_path, monkeypatch, caplog):
    from types import SimpleNamespace

    from orchestration.dagster import dbt_runner

    build_dir = tmp_path / "dbt_models-run"
    build_dir.mkdir()
    (build_dir / "partial_parse.msgpack").write_bytes(b"parsed")
    (tmp_path / "target").write_text("a file where target/ should be")
    monkeypatch.setattr(dbt_runner, "TARGET_DIR", tmp_path / "target")
    dbt_runner.keep_parse(SimpleNamespace(target_path=build_dir))
    assert "could not keep dbt's partial parse" in caplog.text


def test_warehouse_memory_limit_is_given_in_gib_or_defaults_to_most_of_the_ram(monkeypatch):
    import os

    import pytest

    from orchestration import settings

    monkeypatch.delenv(settings.WAREHOUSE_MEMORY_VARIABLE, raising=False)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert settings.warehouse_max_memory_bytes() == int(0.8 * ram)
    monkeypatch.setenv(settings.WAREHOUSE_MEMORY_VARIABLE, "6.5")
    assert settings.warehouse_max_memory_bytes() == int(6.5 * 2**30)
    for bad in ("lots", "0", "-2"):
        monkeypatch.setenv(settings.WAREHOUSE_MEMORY_VARIABLE, bad)
        with pytest.raises(ValueError, match=settings.WAREHOUSE_MEMORY_VARIABLE):
            settings.warehouse_max_memory_bytes()
