"""The quality report: one self-contained HTML page (plotly charts, its script inlined once).

A table of tags (members, coverage, drift, stability, accuracy, status) of the latest published
run, the coverage of each tag across runs, the value distributions, the overlap heatmap of flag
tags, the overlap of the live audiences and the hygiene figures against the seeds' bands. Read from the `quality` and `tags`
databases, so it can be written again at any time (`tags quality report`).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import plotly.graph_objects as go

from orchestration.relations import relation
from orchestration.audiences import audiences
from orchestration.catalog import catalog
from orchestration.publishing import publish
from orchestration.quality import expectations, hygiene as hygiene_module
from orchestration.quality.quality import REPORT_DIR

REPORT_FILE = REPORT_DIR / "index.html"
STATUS_COLOURS = {"passed": "#1b7f3b", "warning": "#b8860b", "blocked": "#b22222", "held (stale)": "#b22222", "healthy": "#1b7f3b", "risk": "#b22222"}


def _figure_html(figure: go.Figure, first: bool) -> str:
    figure.update_layout(margin={"l": 40, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return figure.to_html(full_html=False, include_plotlyjs="inline" if first else False)


def tag_table(client, run_id: str) -> list[dict]:
    """One row per tag of the run: its figures and the worst of its check results."""
    result = client.query(
        "SELECT tag_key, anyIf(observed, check = 'coverage') AS coverage, anyIf(expected, check = 'coverage') AS expected, "
        "anyIf(observed, check = 'distribution') AS psi, anyIf(observed, check = 'stability') AS stability, "
        "anyIf(observed, check = 'accuracy') AS mismatches, countIf(NOT passed AND blocking) AS blocked, "
        f"countIf(NOT passed AND NOT blocking) AS warned FROM {relation('check_results')} WHERE run_id = %(r)s "
        "GROUP BY tag_key ORDER BY tag_key", parameters={"r": run_id})
    built = {key: (members, stale, shown) for key, members, stale, shown in client.query(
        f"SELECT tag_key, member_count, stale, values_as_of FROM {relation('tag_catalog_snapshots')} WHERE run_id = %(r)s",
        parameters={"r": run_id}).result_rows}
    table = []
    for row in result.named_results():
        members, stale, shown = built.get(row["tag_key"], (0, 0, None))
        # a held tag (holds.py) shows its last published values: its members are those of `shown`
        status = "held (stale)" if stale else "blocked" if row["blocked"] else "warning" if row["warned"] else "passed"
        table.append({**row, "members": members, "status": status, "values_as_of": shown})
    return table


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
    return "<h2>Audiences</h2>" + _figure_html(heatmap, first=False)


def write(client, rows: list[catalog.CatalogRow], hygiene: hygiene_module.Hygiene | None = None,
          path: Path = REPORT_FILE) -> Path:
    current = publish.current_run(client)
    if current is None:
        raise ValueError("nothing is published yet: run `tags refresh` first")
    run_id, as_of = current
    hygiene = hygiene or hygiene_module.measure(client, rows, as_of)
    tags = tag_table(client, run_id)
    sections = []

    table_rows = [[t["tag_key"], f"{t['members']:,}", _number(t["coverage"]), t["expected"], _number(t["psi"]),
                   _number(t["stability"]), "" if t["mismatches"] is None else int(t["mismatches"]), t["status"]]
                  for t in tags]
    held = [f"{t['tag_key']} (values of {t['values_as_of'] or 'no published run'})" for t in tags if t["status"] == "held (stale)"]
    held_note = (f"<p><b>Held back tonight</b>, a blocking check failed; BI reads their last published values: "
                 f"{html.escape(', '.join(held))}</p>" if held else "")
    sections.append("<h2>Tags</h2>" + held_note + _html_table(
        ["tag", "members", "coverage", "expected coverage", "drift (PSI)", "stability (changed share)",
         "accuracy (mismatches in sample)", "status"], table_rows, status_column=7))

    trend = client.query(f"SELECT tag_key, as_of, observed FROM {relation('check_results')} WHERE check = 'coverage' "
                         f"AND (as_of, run_id) IN (SELECT as_of, argMax(run_id, published_at) FROM {relation('publish_log')} "
                         "GROUP BY as_of) ORDER BY tag_key, as_of").result_rows
    coverage = go.Figure()
    for key in sorted({r[0] for r in trend}):
        points = [r for r in trend if r[0] == key]
        coverage.add_trace(go.Scatter(x=[str(p[1]) for p in points], y=[p[2] for p in points], mode="lines+markers", name=key))
    coverage.update_xaxes(type="category", title="as_of")
    coverage.update_layout(title="Coverage per tag across published runs", yaxis_title="share of customers",
                           yaxis_tickformat=".0%", height=480)
    sections.append("<h2>Coverage trend</h2>" + _figure_html(coverage, first=True))

    labels = [r.tag_key for r in rows if r.value_type in ("label", "number") and r.status != "archived"]
    shares = client.query(f"SELECT tag_key, bucket, share FROM {relation('value_shares')} WHERE run_id = %(r)s AND tag_key IN %(k)s "
                          "ORDER BY tag_key, bucket", parameters={"r": run_id, "k": labels or [""]}).result_rows
    distribution = go.Figure()
    for key in labels:
        buckets = [s for s in shares if s[0] == key]
        distribution.add_trace(go.Bar(x=[b[2] for b in buckets], y=[f"{key}: {b[1]}" for b in buckets], orientation="h", name=key))
    distribution.update_layout(title=f"Value distribution of label and number tags, {as_of}", xaxis_tickformat=".0%",
                               height=max(400, 18 * len(shares)), showlegend=False)
    sections.append("<h2>Value distributions</h2>" + _figure_html(distribution, first=False))

    flags = sorted({k for pair in hygiene.overlap for k in pair})
    matrix = [[1.0 if a == b else hygiene.overlap.get((min(a, b), max(a, b)), 0.0) for b in flags] for a in flags]
    heatmap = go.Figure(go.Heatmap(z=matrix, x=flags, y=flags, zmin=0, zmax=1, colorscale="Blues",
                                   colorbar={"title": "Jaccard"}))
    heatmap.update_layout(title="Member overlap of flag tags (merge suggested from 85%)", height=700)
    sections.append("<h2>Overlap</h2>" + _figure_html(heatmap, first=False))

    sections.append(_audience_section(client))

    sections.append("<h2>Catalog hygiene</h2>" + _html_table(
        ["figure", "value", "status", "detail"],
        [[figure, f"{value:g}", status, detail] for figure, value, status, detail in hygiene.figures()], status_column=2))

    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tag quality, {as_of}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; }}
th {{ background: #f4f4f4; }}
</style></head><body>
<h1>Tag quality as of {as_of}</h1>
<p>Published run <code>{html.escape(run_id)}</code>. Checks are dbt tests on <code>quality.tag_quality_figures</code>;
figures and outcomes in the <code>quality</code> database (<code>tag_quality_figures</code>, <code>check_results</code>).
Every run's tag rows are also validated with great-expectations, as SQL in ClickHouse
(<a href="{html.escape(os.path.relpath(expectations.data_docs_index(), path.parent))}">Data Docs</a>).</p>
{''.join(sections)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
