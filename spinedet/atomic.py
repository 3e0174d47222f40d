"""Atomic file output: write to a temporary file beside the target, then rename over it.

Temporary files and staging folders are named `.partial-*`, so that what a killed process (SIGKILL: no clean-up
runs) left behind is recognisable: a later run into the same output folder removes them (`remove_partials`)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from spinedet.errors import SpinedetError

PARTIAL_PREFIX = ".partial-"  # every temporary file or staging folder of this module starts so


@contextmanager
def atomic_path(target: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to `target`, else delete it.

    The temporary name keeps the target's suffixes, so writers that choose a format by extension work.
    """
    target = Path(target)
    if not overwrite and target.exists():
        raise SpinedetError(f"{target}: exists already (pass --overwrite to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(target.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{target.name.split('.')[0]}-", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: str | os.PathLike, data: bytes, overwrite: bool = True) -> None:
    with atomic_path(target, overwrite) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike, text: str, overwrite: bool = True) -> None:
    write_bytes(target, text.encode("utf-8"), overwrite)


def write_json(target: str | os.PathLike, obj, overwrite: bool = True) -> None:
    write_text(target, json.dumps(obj, indent=2) + "\n", overwrite)


def staging_dir(parent: str | os.PathLike, name: str) -> Path:
    """A new hidden folder in `parent` to stage outputs in before they are moved into place."""
    return Path(tempfile.mkdtemp(prefix=f"{PARTIAL_PREFIX}{name}-", dir=parent))


def remove_partials(folder: str | os.PathLike) -> int:
    """Delete the temporary files and staging folders that killed runs left anywhere under `folder`; how many.

    Only for an output folder that one process writes at a time (not the shared preprocessing cache)."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    found = sorted(folder.rglob(f"{PARTIAL_PREFIX}*"), key=lambda p: len(p.parts))
    removed = 0
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            path.unlink(missing_ok=True)
        else:
            continue  # inside a staging folder removed above
        removed += 1
    return removed


def require_empty_dir(path: str | os.PathLike, overwrite: bool) -> Path:
    """Create `path`, refusing a non-empty existing folder unless `overwrite`; leftovers of a killed run into it
    (`.partial-*`) are removed first and do not count."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SpinedetError(f"{path}: exists and is not a folder")
    remove_partials(path)
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise SpinedetError(f"{path}: folder is not empty (pass --overwrite to write into it)")
    path.mkdir(parents=True, exist_ok=True)
    return path
