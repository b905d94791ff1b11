"""Several days run in order: a backfill of three days launched in Dagster as the UI launches one
(`dagster dev` with the committed dagster.yaml), one run per day, one at a time, oldest first, each
day published before the next starts; and `tags refresh` given several days."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.warehouse import demo
from orchestration.settings import PROJECT_DIR
from tests.conftest import free_port, tags_cli
from tests.integration.known import AS_OF

DAYS = [AS_OF + dt.timedelta(days=n) for n in range(3)]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
LOCATION = "orchestration.dagster.definitions"  # `dagster dev -m` names the code location after the module


class DagsterDev:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/graphql"

    def query(self, text: str, **variables) -> dict:
        request = urllib.request.Request(self.url, json.dumps({"query": text, "variables": variables}).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]


@pytest.fixture(scope="module")
def demo_data(client):
    demo.generate(client, 2000, 42, AS_OF)


@pytest.fixture(scope="module")
def dagster_dev(demo_data, tmp_path_factory):
    """`dagster dev -m orchestration.dagster.definitions` on a free port, its instance configured by dagster.yaml."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(PROJECT_DIR / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    log = (home / "dagster_dev.log").open("w")
    process = subprocess.Popen([DAGSTER, "dev", "-m", LOCATION, "-p", str(port), "-h", "127.0.0.1"], cwd=PROJECT_DIR,
                               env={**os.environ, "DAGSTER_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    dev = DagsterDev(port)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                state = dev.query("{ workspaceOrError { ... on Workspace { locationEntries { name "
                                  "locationOrLoadError { __typename } } } } }")
                entries = state["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"]:
                    assert entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation", \
                        (home / "dagster_dev.log").read_text()[-3000:]
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (home / "dagster_dev.log").read_text()[-3000:]
            time.sleep(2)
        yield dev
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def partition_of(tags: dict[str, str]) -> str:
    """The day of a backfill's run: a range of one partition (the assets' backfill policy, partitions.py)."""
    start, end = tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
    assert start == end, tags
    return start


JOB = {"pipelineName": "nightly_refresh", "repositoryName": "__repository__", "repositoryLocationName": LOCATION}


def test_the_job_is_partitioned_by_day(dagster_dev):
    job = dagster_dev.query("query($p: PipelineSelector!) { pipelineOrError(params: $p) { ... on Pipeline { "
                            "partitionKeysOrError { ... on PartitionKeys { partitionKeys } } } } }", p=JOB)
    keys = job["pipelineOrError"]["partitionKeysOrError"]["partitionKeys"]
    assert {d.isoformat() for d in DAYS} <= set(keys)
    assert keys[-1] == dt.date.today().isoformat()  # the night's run computes as of the day it runs


@pytest.mark.slow
def test_a_three_day_backfill_publishes_the_days_in_order_one_run_at_a_time(dagster_dev, client):
    nodes = dagster_dev.query("query($p: PipelineSelector!) { assetNodes(pipeline: $p) { assetKey { path } } }", p=JOB)
    assets = [node["assetKey"] for node in nodes["assetNodes"]]
    # as the UI launches a backfill of the job's assets: the days given newest first, to show the order is the queue's
    launched = dagster_dev.query(
        "mutation($b: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $b) { __typename "
        "... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
        b={"partitionNames": [d.isoformat() for d in reversed(DAYS)], "assetSelection": assets})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    deadline = time.monotonic() + 1800
    while True:
        status = dagster_dev.query("query($id: String!) { partitionBackfillOrError(backfillId: $id) { "
                                   "... on PartitionBackfill { status } } }", id=launched["backfillId"])
        if status["partitionBackfillOrError"]["status"] not in ("REQUESTED", "CANCELING"):
            break
        assert time.monotonic() < deadline, "the backfill did not finish in 30 minutes"
        time.sleep(10)
    runs = dagster_dev.query(
        "query($id: String!) { runsOrError(filter: {tags: [{key: \"dagster/backfill\", value: $id}]}) { "
        "... on Runs { results { runId status startTime endTime tags { key value } } } } }",
        id=launched["backfillId"])["runsOrError"]["results"]
    runs.sort(key=lambda run: run["startTime"])
    day_of = {run["runId"]: partition_of({t["key"]: t["value"] for t in run["tags"]}) for run in runs}
    assert [(day_of[run["runId"]], run["status"]) for run in runs] == [(d.isoformat(), "SUCCESS") for d in DAYS]
    for before, after in zip(runs, runs[1:]):  # one at a time: each started after the one before had ended
        assert after["startTime"] >= before["endTime"]
    published = client.query("SELECT run_id, as_of FROM tag_store.publish_log ORDER BY published_at").result_rows
    assert [(day_of.get(run_id), as_of) for run_id, as_of in published] == [(d.isoformat(), d) for d in DAYS]
    assert client.query("SELECT max(as_of) FROM tags.customer_tags").result_rows == [(DAYS[-1],)]


@pytest.mark.slow
def test_tags_refresh_runs_the_days_it_is_given_oldest_first_each_published_before_the_next(demo_data, client):
    later = [DAYS[-1] + dt.timedelta(days=n) for n in (1, 2)]
    result = tags_cli("refresh", "--as-of", later[1].isoformat(), "--as-of", later[0].isoformat())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = " ".join(result.stdout.split())
    first_published = output.index(f"as of {later[0]} in ")  # "published run ... as of D in N s"
    assert output.index(f"nightly job as of {later[0]}") < first_published < output.index(f"nightly job as of {later[1]}")
    published = client.query("SELECT as_of FROM tag_store.publish_log ORDER BY published_at").result_rows
    assert [as_of for (as_of,) in published][-2:] == later
