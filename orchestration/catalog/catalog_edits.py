"""Catalog changes made by program: the one writer of seeds/tag_catalog.csv, and `tags catalog archive|merge`.

`replace` is how every program edit reaches the file: the new text is staged beside the catalog (a name of its own,
fsynced), the whole catalog and the audiences are validated with it, and it replaces the file by rename only when the
edit brought no new error, so a refused edit leaves the file as it was. Cells are rewritten through the csv module,
every other line keeps its text.

- archive A: status archived, updated_by / updated_at set. Refused for an unknown or already archived key, and while
  an audience of seeds/audiences.csv names A (found with the audience parser): a live one would lose its members, and
  every audience's expression is checked against the active tags, so an expired one would fail validation too.
- merge A B: A is archived with the pointer "Merged into B." at the start of its description. Only an active B of
  the same value_type takes A in. Audiences naming A are not rewritten: the merge is refused naming them, because
  B's members (and for labels and numbers its values) differ from A's, so whoever owns the audience decides.
The next refresh syncs the generated files (A's model goes), no longer builds A, and tags.catalog_changes shows the
changed cells with who and when.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import tempfile
from pathlib import Path

from orchestration.audiences import audiences
from orchestration.catalog import catalog, catalog_sync


class CatalogEditError(ValueError):
    pass


def replace(text: str, path: Path = catalog.CATALOG_FILE,
            error: type[ValueError] = CatalogEditError) -> list[catalog.CatalogRow]:
    """Write `text` as the catalog if it brings no new validation error (else `error` naming them, file untouched);
    returns the rows written."""
    before = {_where(e) for e in catalog_sync.validate_all(catalog.load(path))}
    # beside the catalog (the rename stays on one file system), a name of its own, on disk before it replaces the file
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as staged:
        staged.write(text)
        staged.flush()
        os.fsync(staged.fileno())
    candidate = Path(staged.name)
    try:
        rows = catalog.load(candidate)
        new_errors = [e for e in catalog_sync.validate_all(rows) if _where(e) not in before]
        if new_errors:
            raise error("; ".join(f"{e.column}: {e.message}" for e in new_errors) + "; the catalog was not changed")
        os.replace(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    return [dataclasses.replace(r, file=path.name) for r in rows]  # what was checked is what the file now holds


def _where(e: catalog.CatalogError) -> tuple:
    """An error without the file's name: the staged file's name is not the catalog's."""
    return e.row, e.tag_key, e.column, e.message


def archive(tag_key: str, by: str, path: Path = catalog.CATALOG_FILE, today: dt.date | None = None) -> catalog.CatalogRow:
    """Archive an active or deprecated tag no audience names; returns its new row."""
    row = _known(tag_key, catalog.load(path))
    _refuse_if_archived(row)
    _refuse_if_named_by_audiences(row, "archived")
    return _rewrite(path, tag_key, {"status": "archived"}, by, today)


def merge(tag_key: str, into: str, by: str, path: Path = catalog.CATALOG_FILE,
          today: dt.date | None = None) -> catalog.CatalogRow:
    """Fold tag_key into `into`: tag_key archived with a pointer to `into`; returns tag_key's new row."""
    rows = catalog.load(path)
    if tag_key == into:
        raise CatalogEditError(f"cannot merge {tag_key!r} into itself")
    row, target = _known(tag_key, rows), _known(into, rows)
    _refuse_if_archived(row)
    if not target.is_active:
        raise CatalogEditError(f"cannot merge into {into!r}: it is {target.status} (catalog line {target.row_number}); "
                               "merge into an active tag")
    if row.value_type != target.value_type:
        raise CatalogEditError(f"cannot merge {tag_key!r} ({row.value_type}) into {into!r} ({target.value_type}): "
                               "only tags of the same value_type merge")
    _refuse_if_named_by_audiences(row, f"merged into {into!r}")
    return _rewrite(path, tag_key, {"status": "archived", "description": f"Merged into {into}. {row.description}"},
                    by, today)


def _known(tag_key: str, rows: list[catalog.CatalogRow]) -> catalog.CatalogRow:
    row = next((r for r in rows if r.tag_key == tag_key), None)
    if row is None:
        raise CatalogEditError(f"no tag {tag_key!r} in seeds/tag_catalog.csv")
    return row


def _refuse_if_archived(row: catalog.CatalogRow) -> None:
    if row.status == "archived":
        raise CatalogEditError(f"tag {row.tag_key!r} is already archived (catalog line {row.row_number})")


def _refuse_if_named_by_audiences(row: catalog.CatalogRow, what: str) -> None:
    today = dt.date.today()
    naming = [a for a in audiences.load() if row.tag_key in audiences.tags_used(a.expression)]
    if naming:
        named = ", ".join(f"{a.audience_key} ({'live' if a.is_live(today) else 'expired'}, seeds/audiences.csv line "
                          f"{a.row_number})" for a in naming)
        raise CatalogEditError(f"tag {row.tag_key!r} cannot be {what}: audiences still use it: {named}; change their "
                               "expressions (or remove expired ones) first")


def _rewrite(path: Path, tag_key: str, cells: dict[str, str], by: str, today: dt.date | None) -> catalog.CatalogRow:
    """The catalog with tag_key's row given `cells`, updated_by and updated_at; the other lines as they were."""
    if not by.strip():
        raise CatalogEditError("say who makes the change (--by): the change log records it")
    records = list(csv.reader(io.StringIO(path.read_text())))
    header = records[0]
    changes = {**cells, "updated_by": by.strip(), "updated_at": (today or dt.date.today()).isoformat()}
    for record in records[1:]:
        if record and record[0] == tag_key:
            for column, value in changes.items():
                record[header.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    rows = replace(out.getvalue(), path)
    return next(r for r in rows if r.tag_key == tag_key)
