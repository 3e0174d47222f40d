"""Copies of the same DICOM instance (a study exported twice into one folder) are read once."""

from __future__ import annotations

from pathlib import Path

from spinedet.io.dicom_frames import FRAME_INDEX


def drop_duplicate_instances(headers: list[tuple[Path, object]]) -> tuple[list[tuple[Path, object]], list[Path]]:
    """The headers with every later copy of an SOPInstanceUID (and frame) removed, and the paths of those copies."""
    seen: set[tuple[str, int | None]] = set()
    kept, copies = [], []
    for path, ds in headers:
        uid = str(ds.get("SOPInstanceUID", "") or "")
        key = (uid, getattr(ds, FRAME_INDEX, None))
        if uid and key in seen:
            copies.append(path)
            continue
        seen.add(key)
        kept.append((path, ds))
    return kept, sorted(set(copies))
