"""The morning report: one self-contained HTML page per published day (plotly charts, its script inlined once).

First the summary (published when, how long the run took to publish, how old the newest fact was, blocking failures
and warnings, held tags, and any later nightly run that failed), then the failed checks, then every tag (owner,
category, members, coverage in % against its expected range with a sparkline over the published days, drift,
stability, accuracy, status; the ones that need someone first), histograms of the number tags, the label tags'
value distributions, the overlap of flag tags and of the live audiences, and the hygiene figures with what each means.
Each day's page is kept as reports/quality/<as_of>.html; index.html is the latest with the list of days. Read from
the `quality` and `tags` databases and the Dagster instance, so it can be written again at any time
(`tags quality report`).
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from orchestration.relations import relation
from orchestration.audiences import audiences
from orchestration.catalog import catalog
from orchestration.publishing import publish
from orchestration.quality import expectations, freshness, hygiene as hygiene_module
from orchestration.quality.quality import REPORT_DIR

REPORT_FILE = REPORT_DIR / "index.html"
STATUS_COLOURS = {"passed": "#1b7f3b", "warning": "#b8860b", "blocked": "#b22222", "held (stale)": "#b22222", "healthy": "#1b7f3b", "risk": "#b22222"}


def _figure_html(figure: go.Figure) -> str:
    """A chart's div; plotly.js itself is inlined once in the page's head (_page)."""
    figure.update_layout(margin={"l": 40, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return figure.to_html(full_html=False, include_plotlyjs=False)


def tag_table(client, run_id: str, rows: list[catalog.CatalogRow]) -> list[dict]:
    """One row per tag of the run: owner, category, members, coverage against its range, its figures and the worst of
    its check results; the tags that need someone first (held or blocked, then warnings), then by key."""
    result = client.query(
        "SELECT tag_key, anyIf(observed, check = 'distribution') AS psi, anyIf(observed, check = 'stability') AS stability, "
        "anyIf(observed, check = 'accuracy') AS mismatches, countIf(NOT passed AND blocking) AS blocked, "
        f"countIf(NOT passed AND NOT blocking) AS warned FROM {relation('check_results')} WHERE run_id = %(r)s "
        "GROUP BY tag_key", parameters={"r": run_id})
    checked = {row["tag_key"]: row for row in result.named_results()}
    built = client.query(
        "SELECT tag_key, owner, category, value_type, member_count AS members, coverage, coverage_min, coverage_max, "
        f"stale, values_as_of FROM {relation('tag_catalog_snapshots')} WHERE run_id = %(r)s", parameters={"r": run_id})
    order = {"held (stale)": 0, "blocked": 0, "warning": 1, "passed": 2}
    table = []
    for row in built.named_results():
        figures = checked.get(row["tag_key"], {"psi": None, "stability": None, "mismatches": None, "blocked": 0, "warned": 0})
        # a held tag (holds.py) shows its last published values: its members are those of values_as_of
        status = ("held (stale)" if row["stale"] else "blocked" if figures["blocked"] else
                  "warning" if figures["warned"] else "passed")
        table.append({**figures, **row, "status": status})
    return sorted(table, key=lambda t: (order[t["status"]], t["tag_key"]))


def failed_checks(client, run_id: str) -> list[dict]:
    """The run's failed quality checks, blocking ones first, with what they observed against what they expect."""
    return list(client.query(
        f"SELECT c.tag_key AS tag_key, s.owner AS owner, c.check AS check, c.blocking AS blocking, c.when_blocked AS "
        f"when_blocked, c.message AS message FROM {relation('check_results')} AS c LEFT JOIN "
        f"{relation('tag_catalog_snapshots')} AS s ON s.run_id = c.run_id AND s.tag_key = c.tag_key "
        "WHERE c.run_id = %(r)s AND NOT c.passed ORDER BY c.blocking DESC, c.tag_key, c.check",
        parameters={"r": run_id}).named_results())


def _percent(share) -> str:
    return "" if share is None else f"{100 * share:.1f} %" if share >= 0.001 or share == 0 else f"{100 * share:.2f} %"


def sparkline(points: list[float], low: float | None, high: float | None, width: int = 120, height: int = 24) -> str:
    """An inline SVG of a tag's coverage over the published days, its expected range shaded behind it."""
    if not points:
        return ""
    top = max([*points, high or 0.0]) or 1.0
    x = (lambda i: 2 + i * (width - 4) / max(1, len(points) - 1))
    y = (lambda v: height - 2 - (height - 4) * v / top)
    band = (f'<rect x="0" y="{y(high):.1f}" width="{width}" height="{max(0.5, y(low) - y(high)):.1f}" fill="#e6f2e6"/>'
            if low is not None and high is not None else "")
    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(points))
    title = html.escape(", ".join(_percent(v) for v in points))
    return (f'<svg class="spark" width="{width}" height="{height}" role="img"><title>{title}</title>{band}'
            f'<polyline points="{line}" fill="none" stroke="#3366aa" stroke-width="1.5"/>'
            f'<circle cx="{x(len(points) - 1):.1f}" cy="{y(points[-1]):.1f}" r="2.5" fill="#3366aa"/></svg>')


def coverage_history(client) -> dict[str, list[float]]:
    """Each tag's coverage on every published day, oldest first (the run BI read for that day)."""
    found: dict[str, list[float]] = {}
    for tag_key, share in client.query(
            f"SELECT tag_key, coverage FROM {relation('tag_catalog_snapshots')} WHERE (as_of, run_id) IN "
            f"(SELECT as_of, argMax(run_id, published_at) FROM {relation('publish_log')} WHERE refines_run_id = '' GROUP BY as_of) "
            "ORDER BY tag_key, as_of").result_rows:
        found.setdefault(tag_key, []).append(share)
    return found


def _html_table(headers: list[str], rows: list[list[str]], status_column: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            style = f' style="color:{STATUS_COLOURS.get(cell, "inherit")};font-weight:600"' if i == status_column else ""
            cells.append(f"<td{style}>{html.escape(str(cell))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _number(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _audience_section(client) -> str:
    """Sizes of the live audiences and the customers every pair shares (bitmap AND cardinalities)."""
    found = audiences.overlap(client)
    if not found.keys:
        return "<h2>Audiences</h2><p>No live audience in the published run.</p>"
    keys = found.keys
    heatmap = go.Figure(go.Heatmap(z=[[found.shared[(a, b)] for b in keys] for a in keys], x=keys, y=keys,
                                   colorscale="Purples", colorbar={"title": "customers"},
                                   texttemplate="%{z:,}", hovertemplate="%{y} and %{x}: %{z:,} customers<extra></extra>"))
    heatmap.update_layout(title="Customers shared by two audiences (diagonal: the audience's size)",
                          height=max(400, 60 * len(keys)))
    return "<h2>Audiences</h2>" + _figure_html(heatmap)


HYGIENE_MEANING = {
    "total_active_tags": "Active tags in the catalog: healthy 15-35, risk over 50. Too many and nobody knows what each means.",
    "usage_rate": f"Share of active tags used in the last {hygiene_module.USAGE_DAYS} days: by an audience built, an "
                  "export of one, or a BI or console query naming it (ClickHouse's query log); healthy over 80 %, "
                  "risk under 60 %. The tags listed were used.",
    "tag_uses": f"Uses in the last {hygiene_module.USAGE_DAYS} days per tag, kind and user: an audience built one "
                "night (its owner), an export of it (its owner), a query naming the tag (the query log's user).",
    "zombie_tags": f"Active tags used fewer than {hygiene_module.ZOMBIE_USES} times in {hygiene_module.USAGE_DAYS} "
                   f"days: archive the big ones (`tags catalog archive`), delete those under "
                   f"{hygiene_module.DELETE_MEMBERS} members unused for {hygiene_module.DELETE_DAYS} days.",
    "merge_suggestions": f"Flag tags whose members overlap {hygiene_module.MERGE_JACCARD:.0%} or more (Jaccard): "
                         "probably one audience under two names.",
    "naming_violations": "Tag names that break the catalog's naming rules (the validator's own checks).",
}


def _dagster_view(run_id: str, published_at: dt.datetime) -> tuple[float | None, list[str]]:
    """From the Dagster instance: seconds from the run's start to its publish, and the nightly runs started after it
    that failed (so the page says when tonight's tags are not tonight's). Nothing when the instance lacks the run."""
    import dagster as dg

    from orchestration.dagster import instance as dagster_instance
    from orchestration.dagster.schedules import JOB_NAME

    with dagster_instance.instance() as instance:
        record = instance.get_run_record_by_id(run_id)
        started = record.start_time if record else None
        failed = instance.get_run_records(dg.RunsFilter(job_name=JOB_NAME, statuses=[dg.DagsterRunStatus.FAILURE],
                                                        created_after=published_at.replace(tzinfo=dt.timezone.utc)),
                                          limit=5)
    took = (published_at.replace(tzinfo=dt.timezone.utc).timestamp() - started) if started else None
    return took, [f"run {r.dagster_run.run_id} ({r.dagster_run.tags.get('dagster/partition', '?')}) failed; see it in "
                  "Dagster (`tags ui`)" for r in failed]


def newest_fact_hours(client, as_of: dt.date, published_at: dt.datetime) -> float | None:
    """Hours from the newest order, event or ticket up to the end of as_of to publishing (the freshness check's
    figure, read from raw again so the page does not wait for the check)."""
    newest = client.query(
        "SELECT greatest((SELECT max(ordered_at) FROM raw.orders WHERE ordered_at < %(end)s), "
        "(SELECT max(event_at) FROM raw.events WHERE event_at < %(end)s), "
        "(SELECT max(opened_at) FROM raw.tickets WHERE opened_at < %(end)s))",
        parameters={"end": dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())}).result_rows[0][0]
    return None if newest is None else max(0.0, (published_at - newest).total_seconds() / 3600)


def _summary(client, run_id: str, as_of: dt.date, tags: list[dict], failed: list[dict]) -> str:
    published_at = freshness.published_at(client, run_id)
    took, later_failures = _dagster_view(run_id, published_at)
    hours = newest_fact_hours(client, as_of, published_at)
    blocking = sum(1 for f in failed if f["blocking"])
    held = [t["tag_key"] for t in tags if t["status"] == "held (stale)"]
    verdict = "attention" if blocking or later_failures else "ok"
    facts = [f"published {published_at:%Y-%m-%d %H:%M} UTC",
             f"{took:.0f} s from the run's start to publishing" if took is not None else "",
             f"newest fact {hours:.1f} h before publishing" if hours is not None else "no fact up to the end of the day",
             f"{blocking} blocking failure(s)", f"{len(failed) - blocking} warning(s)",
             f"held at their last published values: {', '.join(held)}" if held else "no tag held"]
    later = "".join(f'<p class="verdict attention">After this one, {html.escape(f)}: BI still reads this night.</p>'
                    for f in later_failures)
    return (f'<div class="summary"><p class="verdict {verdict}"><b>Tags as of {as_of}: published.</b> '
            + html.escape(" · ".join(f for f in facts if f)) + f"</p>{later}</div>")


def _failures_section(failed: list[dict]) -> str:
    if not failed:
        return "<h2>Needs attention</h2><p>Every check passed.</p>"
    outcome = (lambda f: "holds this tag" if f["blocking"] and f["when_blocked"] == "hold_tag" else
               "holds the night" if f["blocking"] else "warning")
    return "<h2>Needs attention</h2>" + _html_table(
        ["tag", "owner", "check", "outcome", "what it found"],
        [[f["tag_key"], f["owner"] or "", f["check"], outcome(f), f["message"]] for f in failed])


def _tags_section(tags: list[dict], history: dict[str, list[float]]) -> str:
    header = ["tag", "owner", "category", "members", "coverage", "expected", "coverage by day", "drift (PSI)",
              "stability (changed share)", "accuracy (mismatches in sample)", "status"]
    body = []
    for t in tags:
        expected = (f"{_percent(t['coverage_min'])} to {_percent(t['coverage_max'])}"
                    if t["coverage_min"] is not None and t["coverage_max"] is not None else "any")
        cells = [t["tag_key"], t["owner"], t["category"], f"{t['members']:,}", _percent(t["coverage"]), expected]
        status = t["status"]
        row = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        row += f"<td>{sparkline(history.get(t['tag_key'], []), t['coverage_min'], t['coverage_max'])}</td>"
        row += "".join(f"<td>{html.escape(str(c))}</td>" for c in [
            _number(t["psi"]), _number(t["stability"]), "" if t["mismatches"] is None else int(t["mismatches"])])
        row += f'<td style="color:{STATUS_COLOURS.get(status, "inherit")};font-weight:600">{html.escape(status)}</td>'
        body.append(f"<tr>{row}</tr>")
    held = [f"{t['tag_key']} (values of {t['values_as_of'] or 'no published run'})" for t in tags
            if t["status"] == "held (stale)"]
    note = (f"<p><b>Held back tonight</b>, a blocking check failed; BI reads their last published values: "
            f"{html.escape(', '.join(held))}</p>" if held else "")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return (f"<h2>Tags</h2>{note}<p>Coverage is the share of all customers; the shaded band of each line is the "
            f"catalog's expected range.</p><table class=\"tags\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _number_tags_section(client, run_id: str, rows: list[catalog.CatalogRow]) -> str:
    """A histogram of each number tag's values in the run (ClickHouse's adaptive histogram, 20 bins)."""
    numbers = [r.tag_key for r in rows if r.value_type == "number" and r.is_active]
    found = dict(client.query(
        f"SELECT tag_key, histogram(20)(toFloat64(tag_value)) FROM {relation('tag_snapshots')} "
        "WHERE run_id = %(r)s AND tag_key IN %(k)s GROUP BY tag_key", parameters={"r": run_id, "k": numbers or [""]}
    ).result_rows)
    figures = []
    for key in numbers:
        bins = found.get(key) or []
        figure = go.Figure(go.Bar(x=[(lo + hi) / 2 for lo, hi, _ in bins], y=[n for _, _, n in bins],
                                  width=[max(hi - lo, 1e-9) for lo, hi, _ in bins], marker_color="#3366aa",
                                  hovertemplate="%{x:.1f}: %{y:.0f} customers<extra></extra>"))
        figure.update_layout(title=f"{key}: customers per bin of values (adaptive bins)", height=300, xaxis_title=key,
                             yaxis_title="customers")
        figures.append(_figure_html(figure))
    return "<h2>Number tags</h2>" + ("".join(figures) or "<p>No active number tag.</p>")


def _days_nav(directory: Path, current: dt.date) -> str:
    days = sorted((p.stem for p in directory.glob("????-??-??.html")), reverse=True)
    links = [f"<b>{d}</b>" if d == str(current) else f'<a href="{d}.html">{d}</a>' for d in days]
    return f'<nav>Reports by day (newest first): {" · ".join(links)}</nav>'


def write(client, rows: list[catalog.CatalogRow], hygiene: hygiene_module.Hygiene | None = None,
          path: Path = REPORT_FILE) -> Path:
    """The page of the published run, written as <as_of>.html beside `path` (one kept per day) and as `path` itself,
    which also lists every day's page (the index)."""
    current = publish.current_run(client)
    if current is None:
        raise ValueError("nothing is published yet: run `tags refresh` first")
    run_id, as_of = current
    hygiene = hygiene or hygiene_module.measure(client, rows, as_of)
    tags = tag_table(client, run_id, rows)
    failed = failed_checks(client, run_id)
    sections = [_summary(client, run_id, as_of, tags, failed), _failures_section(failed),
                _tags_section(tags, coverage_history(client)), _number_tags_section(client, run_id, rows)]

    labels = [r.tag_key for r in rows if r.value_type in ("label", "labels") and r.status != "archived"]
    shares = client.query(f"SELECT tag_key, bucket, share FROM {relation('value_shares')} WHERE run_id = %(r)s AND tag_key IN %(k)s "
                          "ORDER BY tag_key, bucket", parameters={"r": run_id, "k": labels or [""]}).result_rows
    distribution = go.Figure()
    for key in labels:
        buckets = [s for s in shares if s[0] == key]
        distribution.add_trace(go.Bar(x=[b[2] for b in buckets], y=[f"{key}: {b[1]}" for b in buckets], orientation="h", name=key))
    distribution.update_layout(title=f"Value distribution of label tags, {as_of}", xaxis_tickformat=".0%",
                               height=max(400, 18 * len(shares)), showlegend=False)
    sections.append("<h2>Value distributions</h2>" + _figure_html(distribution))

    flags = sorted({k for pair in hygiene.overlap for k in pair})
    matrix = [[1.0 if a == b else hygiene.overlap.get((min(a, b), max(a, b)), 0.0) for b in flags] for a in flags]
    heatmap = go.Figure(go.Heatmap(z=matrix, x=flags, y=flags, zmin=0, zmax=1, colorscale="Blues",
                                   colorbar={"title": "Jaccard"}))
    heatmap.update_layout(title="Member overlap of flag tags (merge suggested from 85%)", height=700)
    sections.append("<h2>Overlap</h2>" + _figure_html(heatmap))

    sections.append(_audience_section(client))

    sections.append("<h2>Catalog hygiene</h2>" + _html_table(
        ["figure", "value", "status", "what it means", "detail"],
        [[figure, f"{value:g}", status, HYGIENE_MEANING.get(figure, ""), detail]
         for figure, value, status, detail in hygiene.figures()], status_column=2))

    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    day_page = directory / f"{as_of}.html"
    docs = html.escape(os.path.relpath(expectations.data_docs_index(), directory))
    day_page.write_text(_page(as_of, run_id, "<nav><a href=\"index.html\">every day</a></nav>", sections, docs),
                        encoding="utf-8")
    path.write_text(_page(as_of, run_id, _days_nav(directory, as_of), sections, docs), encoding="utf-8")
    return path


def _page(as_of: dt.date, run_id: str, nav: str, sections: list[str], docs: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tag quality, {as_of}</title>
<script>{get_plotlyjs()}</script>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: middle; }}
th {{ background: #f4f4f4; }}
.verdict {{ padding: 0.6rem 1rem; border-left: 6px solid #1b7f3b; background: #f1f8f1; }}
.verdict.attention {{ border-color: #b22222; background: #fbeeee; }}
nav {{ margin-bottom: 1rem; }}
table.tags td {{ white-space: nowrap; }}
</style></head><body>
<h1>Tag quality as of {as_of}</h1>
{nav}
{sections[0]}
<p>Published run <code>{html.escape(run_id)}</code>. Checks are dbt tests on <code>quality.tag_quality_figures</code>;
figures and outcomes in the <code>quality</code> database (<code>tag_quality_figures</code>, <code>check_results</code>).
Every run's tag rows are also validated with great-expectations, as SQL in ClickHouse
(<a href="{docs}">Data Docs</a>).</p>
{''.join(sections[1:])}
</body></html>
"""
