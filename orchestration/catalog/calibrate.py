"""`tags catalog calibrate`: expected coverage ranges from the data that is loaded, proposed as a diff of the catalog.

The default catalog's ranges fit the demo; a user's own data can fail a dozen blocking coverage checks on its first
night. Calibrating builds staging, features and every tag model on the loaded data (no store rows, nothing
published), reads each tag's coverage (members over all customers of the feature mart), and proposes a range around
it: the observed share give or take `margin` of itself (default half), widened to whole tenths of a percent. The
proposal is a unified diff of seeds/tag_catalog.csv, written only when asked; blocking checks and every other cell
stay as they are. A tag with no member gets 0 to 1 %.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from dataclasses import dataclass

from orchestration.catalog import catalog, catalog_sync
from orchestration.relations import relation

DEFAULT_MARGIN = 0.5
EMPTY_TAG_RANGE = (0.0, 0.01)


@dataclass(frozen=True)
class Proposal:
    tag_key: str
    members: int
    coverage: float
    current: tuple[float | None, float | None]
    proposed: tuple[float, float]

    @property
    def current_passes(self) -> bool:
        low, high = self.current
        return low is not None and high is not None and low <= self.coverage <= high

    @property
    def changed(self) -> bool:
        return self.current != self.proposed


def proposed_range(coverage: float, margin: float = DEFAULT_MARGIN) -> tuple[float, float]:
    """The observed coverage give or take margin of itself, outward to whole thousandths, within 0..1."""
    if not 0 < margin < 1:
        raise ValueError(f"--margin must be between 0 and 1 (a share of the observed coverage), got {margin}")
    if coverage <= 0:
        return EMPTY_TAG_RANGE
    # rounded to 9 places first, so 0.2 x 1.5 (0.30000000000000004) is 0.3, not 0.301
    low = math.floor(round(coverage * (1 - margin) * 1000, 9)) / 1000
    high = min(1.0, math.ceil(round(coverage * (1 + margin) * 1000, 9)) / 1000)
    return low, max(high, low + 0.001)


def observe(client, rows: list[catalog.CatalogRow]) -> dict[str, tuple[int, float]]:
    """Members and coverage of every built tag, from its model's table as the last build left it."""
    customers = int(client.command(f"SELECT count() FROM {relation('customer_features')}"))
    found = {}
    for row in catalog_sync.built(rows):
        # customers, not rows: a labels tag has a row per value
        members = int(client.command(f"SELECT uniqExact(customer_id) FROM {relation(catalog_sync.model_name(row.tag_key))}"))
        found[row.tag_key] = (members, members / customers if customers else 0.0)
    return found


def propose(rows: list[catalog.CatalogRow], observed: dict[str, tuple[int, float]],
            margin: float = DEFAULT_MARGIN) -> list[Proposal]:
    """A proposal per observed tag: the tags whose current range fails the data first, then by key."""
    proposals = [Proposal(r.tag_key, *observed[r.tag_key], (r.coverage_min, r.coverage_max),
                          proposed_range(observed[r.tag_key][1], margin)) for r in rows if r.tag_key in observed]
    return sorted(proposals, key=lambda p: (p.current_passes, p.tag_key))


def _cell(value: float) -> str:
    return f"{value:g}"


def rewritten(text: str, proposals: list[Proposal]) -> str:
    """The catalog file's text with only the proposed coverage_min / coverage_max cells replaced."""
    records = list(csv.reader(io.StringIO(text)))
    header = records[0]
    key, low, high = (header.index(c) for c in ("tag_key", "coverage_min", "coverage_max"))
    by_key = {p.tag_key: p for p in proposals}
    for record in records[1:]:
        if record and record[key] in by_key:
            record[low], record[high] = (_cell(v) for v in by_key[record[key]].proposed)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue()


def diff(before: str, after: str, name: str = "seeds/tag_catalog.csv") -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))
