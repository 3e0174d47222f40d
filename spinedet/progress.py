"""Progress of long work: a tqdm bar on a terminal; in a log file or CI (stderr not a terminal) one line when a
stage starts and one when it ends, never carriage-return redraws."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator

from tqdm import tqdm


class LineProgress:
    """tqdm's update / set_postfix / close, written as two plain lines."""

    def __init__(self, total: int | None, desc: str, initial: int = 0, unit: str = "it", stream=None):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.postfix: dict = {}
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.closed = False
        of = f" of {total}" if total is not None else ""
        self._line(f"{desc}: started at {initial}{of} {unit}")

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, **values) -> None:
        self.postfix = values

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        extra = "".join(f", {k}={v}" for k, v in self.postfix.items())
        of = f"/{self.total}" if self.total is not None else ""
        self._line(f"{self.desc}: {self.n}{of} {self.unit} in {time.perf_counter() - self.started:.1f} s{extra}")


_LINES_ONLY = False


def use_lines() -> None:
    """Plain lines from now on, even on a terminal (a process working beside others that share it)."""
    global _LINES_ONLY
    _LINES_ONLY = True


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **values) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, desc: str, initial: int = 0, unit: str = "it", disable: bool = False,
                 leave: bool = True):
    """A bar with update / set_postfix / close: tqdm on a terminal, two lines elsewhere, nothing when disabled."""
    if disable:
        return _Silent()
    if sys.stderr.isatty() and not _LINES_ONLY:
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=leave)
    return LineProgress(total, desc, initial, unit)


def progress(items: Iterable, desc: str, total: int | None = None, disable: bool = False) -> Iterator:
    """`items`, with a progress bar (see progress_bar) over them."""
    items = list(items) if total is None else items
    bar = progress_bar(total if total is not None else len(items), desc, disable=disable, leave=False)
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()
