"""Atomic file output: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from spinedet.errors import SpinedetError


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
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name.split('.')[0]}-", suffix=suffix, dir=target.parent)
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


def require_empty_dir(path: str | os.PathLike, overwrite: bool) -> Path:
    """Create `path`, refusing a non-empty existing folder unless `overwrite`."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SpinedetError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise SpinedetError(f"{path}: folder is not empty (pass --overwrite to write into it)")
    path.mkdir(parents=True, exist_ok=True)
    return path
