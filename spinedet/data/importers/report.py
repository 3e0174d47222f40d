"""What an import skipped and why: one stderr line per problem, and a closing summary."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Collects problem lines as they happen and counts what was imported and skipped."""

    source: str
    lines: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    stream: object = None

    def problem(self, where: str, what: str) -> None:
        """Report one problem with one item (a file, a row, a study) at once on stderr."""
        line = f"spinedet import {self.source}: {where}: {what}"
        self.lines.append(line)
        print(line, file=self.stream or sys.stderr)

    def skip(self, kind: str, where: str, why: str) -> None:
        """Report an item left out of the dataset, counted under `kind` (e.g. 'scans', 'studies')."""
        self.skipped[kind] += 1
        self.problem(where, f"skipped: {why}")

    def summary(self, data: dict, out_path) -> str:
        """One paragraph: what was written where, and what was skipped."""
        scans = data["scans"]
        findings = Counter(f["class"] for s in scans for f in s.get("findings", []))
        discs = sum(len(s.get("discs", [])) for s in scans)
        unlabelled = sum(len(s.get("unlabelled", [])) for s in scans)
        normal_mild = sum(len(s.get("normal_mild", [])) for s in scans)
        patients = len({s["patient"] for s in scans})
        splits = Counter(s.get("split", "-") for s in scans)
        text = (
            f"imported {len(scans)} scans of {patients} patients into {out_path} "
            f"(splits {dict(sorted(splits.items()))}; findings {dict(sorted(findings.items()))}; discs {discs}"
            + (f"; unlabelled (class, level) pairs {unlabelled}" if unlabelled else "")
            + (f"; normal/mild (class, level) pairs {normal_mild})" if normal_mild else ")")
        )
        if self.skipped:
            text += f"; skipped {dict(sorted(self.skipped.items()))}"
        text += f"; {len(self.lines)} problem line(s) on stderr" if self.lines else "; no problems"
        return text
