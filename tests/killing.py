"""SIGKILL a `spinedet` command at a moment chosen by watching it (its output lines, files appearing), and compare
output folders file by file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable


def spinedet(*args: str) -> list[str]:
    return [sys.executable, "-m", "spinedet", *map(str, args)]


def kill_when(command: list[str], ready: Callable[[list[str]], bool], delay_s: float = 0.0,
              timeout_s: float = 240.0) -> tuple[int, list[str]]:
    """Run `command`; as soon as ready(stdout lines so far) holds, wait `delay_s` and SIGKILL it.

    Returns (exit code, stdout lines); the code is -SIGKILL when it was killed, anything else when it ended first."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline and not ready(list(lines)):
        time.sleep(0.002)
    time.sleep(delay_s)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    code = process.wait()
    reader.join(timeout=10)
    return code, lines


def visible_files(folder: Path) -> list[Path]:
    """Files under `folder` whose names (and folders' names) are not hidden: what looks like output."""
    return sorted(p for p in Path(folder).rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def file_bytes(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) by relative path, except those named in `skip`."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip}
