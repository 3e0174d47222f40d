"""Resumable study stages: a stage whose record exists is reused, so an interrupted study continues."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from spinedet.atomic import write_json


class StageLog:
    """Records each finished stage (name, command, wall seconds) under OUT/stages/ and skips finished ones."""

    def __init__(self, out: Path):
        self.folder = Path(out) / "stages"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.reused_s = 0.0  # seconds the stages reused by this process took when they ran in an earlier one
        self.counted: set[str] = set()  # stages run by this process or already counted in reused_s

    def _record_path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def reuse(self, name: str) -> dict | None:
        """The record of stage `name` if it finished before (announced, and its seconds counted as reused)."""
        path = self._record_path(name)
        if not path.exists():
            return None
        record = json.loads(path.read_text())
        if name not in self.counted:  # a stage this process ran, or reused before, is in the wall time once
            print(f"[study] {name}: done before ({record['wall_s']:.0f} s), reused", flush=True)
            self.reused_s += record["wall_s"]
            self.counted.add(name)
        return record

    def run(self, name: str, command: str, action: Callable[[], dict | None]) -> dict:
        """Run `action` unless stage `name` finished before; return its record (with any dict it returned)."""
        reused = self.reuse(name)
        if reused is not None:
            return reused
        print(f"[study] {name}: {command}", flush=True)
        start = time.perf_counter()
        result = action() or {}
        wall_s = time.perf_counter() - start
        self.counted.add(name)
        print(f"[study] {name} finished in {wall_s:.0f} s", flush=True)
        record = {"stage": name, "command": command, "wall_s": wall_s, "result": result}
        write_json(self._record_path(name), record)
        return record

    def records(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)]
