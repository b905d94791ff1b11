"""expectations.py without a warehouse: the Data Docs pages' CDN loads become vendored copies, the number bounds."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import great_expectations
import pytest

from orchestration.catalog import catalog
from orchestration.quality import expectations

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
LOADS = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"((?:https?:)?//[^\"]*)\"")


def page_loading(urls: list[str]) -> str:
    tags = "\n".join(f'<script src="{u}" integrity="sha384-x" crossorigin="anonymous"></script>' if u.endswith(".js")
                     or "vega" in u else f'<link rel="stylesheet" href="{u}"/>' for u in urls)
    return (f"<html><head>{tags}</head><body><img src=\"{expectations.LOGO_PREFIX}logo-long.png?d=1\"/>"
            '<a href="https://greatexpectations.io">GX</a></body></html>')


def test_every_cdn_load_of_the_installed_gx_templates_is_vendored_or_dropped():
    found = {url for template in TEMPLATES.glob("*.j2") for url in LOADS.findall(template.read_text())}
    assert found  # the templates do load from CDNs
    unknown = {url for url in found if url not in expectations.VENDORED and url not in expectations.UNUSED_SCRIPTS
               and not url.startswith(expectations.LOGO_PREFIX)}
    assert unknown == set()


def test_the_vendored_files_are_there_with_their_licences():
    for file in set(expectations.VENDORED.values()):
        assert (expectations.VENDOR_DIR / file).is_file(), file
    for folder in {file.split("/")[0] for file in expectations.VENDORED.values()}:
        assert (expectations.VENDOR_DIR / folder / "LICENSE").is_file(), folder


def test_pages_at_any_depth_load_the_vendored_copies(tmp_path):
    site = tmp_path / "local_site"
    (site / "static" / "images").mkdir(parents=True)
    (site / "static" / "images" / "logo-long.png").write_bytes(b"png")
    pages = [site / "index.html", site / "validations" / "suite" / "run" / "page.html"]
    urls = [*expectations.VENDORED, *expectations.UNUSED_SCRIPTS]
    for page in pages:
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(page_loading(urls))

    expectations.offline_data_docs(site)

    for page in pages:
        text = page.read_text()
        assert LOADS.findall(text) == [] and "vega" not in text
        assert "integrity" not in text and "crossorigin" not in text
        assert '<a href="https://greatexpectations.io">' in text  # links are not loads
        loaded = re.findall(r'(?:src|href)="([^"]+)"', text)
        assert len(loaded) == len(expectations.VENDORED) + 2  # every vendored file, the logo and the link
        for path in loaded:
            if not path.startswith("https://"):
                assert (page.parent / path).resolve().is_file(), (page, path)


def test_a_load_that_is_not_vendored_is_refused_naming_page_and_url(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(page_loading(["https://cdn.example.org/new-widget.js"]))
    with pytest.raises(expectations.DataDocsError, match=r"index\.html: loads https://cdn\.example\.org/new-widget\.js"):
        expectations.offline_data_docs(tmp_path)


def test_a_page_drawing_a_vega_chart_is_refused(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(page_loading(list(expectations.UNUSED_SCRIPTS)).replace("</body>", "<script>vegaEmbed('#c', {})</script></body>"))
    with pytest.raises(expectations.DataDocsError, match="vega"):
        expectations.offline_data_docs(tmp_path)


def test_number_bounds_come_from_the_catalog_and_the_methods():
    rows = {r.tag_key: r for r in catalog.load()}
    assert expectations.number_bounds(rows["value_score"]) == (0.0, 100.0)
    assert expectations.number_bounds(rows["rfm_score"]) == (111.0, 555.0)
    halved = replace(rows["value_score"], params={**rows["value_score"].params,
                                                  **{w: rows["value_score"].params[w] / 2 for w in catalog.SCORE_WEIGHTS}})
    assert expectations.number_bounds(halved) == pytest.approx((0.0, 50.0))
    assert expectations.number_bounds(replace(rows["value_score"], method="rule")) is None


def test_only_the_newest_runs_keep_their_results_and_pages(tmp_path):
    gx_dir = tmp_path / "gx" / "uncommitted"
    trees = [gx_dir / "validations", gx_dir / "data_docs" / "local_site" / "validations"]
    # run "a" was validated first, and again after "c": a run is as new as its latest validation
    times = {"a": ["20261201T020000.1Z", "20261204T090000.1Z"], "b": ["20261202T020000.1Z"], "c": ["20261203T020000.1Z"],
             "d": ["20261130T020000.1Z"]}
    for tree in trees:
        for suite in ("tag_snapshots", "profile_snapshots"):
            for run, stamps in times.items():
                for stamp in stamps:
                    (tree / suite / run / stamp).mkdir(parents=True)
                    (tree / suite / run / stamp / "result").write_text("{}")
    (trees[0] / ".ge_store_backend_id").write_text("store_backend_id = x\n")

    assert sorted(expectations.forget_old_runs(tmp_path, keep=2)) == ["b", "d"]
    for tree in trees:
        for suite in ("tag_snapshots", "profile_snapshots"):
            assert sorted(p.name for p in (tree / suite).iterdir()) == ["a", "c"]
    assert (trees[0] / ".ge_store_backend_id").exists()
    assert expectations.forget_old_runs(tmp_path, keep=2) == []
