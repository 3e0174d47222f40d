"""Reading the published CSV files: header check and rows as dicts, with problems reported, never raised."""

from __future__ import annotations

import csv
from pathlib import Path

from spinedet.data.importers.report import ImportReport


def read_table(path: Path, required: tuple[str, ...], report: ImportReport) -> list[dict] | None:
    """The rows of a CSV with a header, or None (after a problem line) when missing, unreadable or lacking columns."""
    if not path.is_file():
        report.problem(str(path), "missing")
        return None
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [c.strip() for c in (reader.fieldnames or [])]
            rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        report.problem(str(path), f"unreadable ({exc})")
        return None
    missing = [c for c in required if c not in header]
    if missing:
        report.problem(str(path), f"lacks column(s) {missing}; found {header}")
        return None
    return rows


def integer(text: str) -> int | None:
    """An integer cell ('3', '3.0'), or None when it is empty or not a whole number."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None
