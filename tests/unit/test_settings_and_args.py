import datetime as dt
import json

import pytest

from orchestration import dbt_runner, settings


def test_as_of_parses_iso_dates_and_defaults_to_today():
    assert settings.parse_as_of("2026-02-28") == dt.date(2026, 2, 28)
    assert settings.parse_as_of("") == dt.date.today()
    assert settings.parse_as_of(None) == dt.date.today()


@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "2026/01/01", "20260101x"])
def test_bad_as_of_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=f"as_of must be a date written YYYY-MM-DD, got '{bad}'"):
        settings.parse_as_of(bad)


def test_dbt_args_carry_as_of_and_selectors():
    args = dbt_runner.dbt_args("build", dt.date(2026, 11, 23), ["stg_orders", "tag:daily"])
    assert args[0] == "build"
    assert json.loads(args[args.index("--vars") + 1]) == {"as_of": "2026-11-23"}
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
    from orchestration import publish

    monkeypatch.setenv("TAG_HISTORY_RETENTION_DAYS", value)
    with pytest.raises(ValueError, match=f"TAG_HISTORY_RETENTION_DAYS must be a whole number of days, at least 1; got '{value}'"):
        publish.retention_days()


def test_dbt_args_carry_the_run_id_when_given():
    args = dbt_runner.dbt_args("build", dt.date(2026, 11, 23), run_id="20261123-020000-abc")
    assert json.loads(args[args.index("--vars") + 1]) == {"as_of": "2026-11-23", "run_id": "20261123-020000-abc"}
