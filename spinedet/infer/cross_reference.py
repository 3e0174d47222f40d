"""Axial levels named from the same patient's sagittal scan, as a radiologist names them from the sagittal images.

An axial stack of two or three discs shows too little of the spine to count levels on; a sagittal one shows the
sacrum (or C2) and the discs between. Sagittal and axial series of one study share the scanner's frame of reference,
so their discs meet in LPS mm. The axial finder's names keep their order and are shifted as a block by the number of
levels on which its discs agree with the sagittal discs nearest to them: each axial disc within half the sagittal
disc spacing of a sagittal disc votes for the difference of their level indices; the shift with most votes wins (on
a tie, the one whose voters lie closer). Without a vote the axial names stay as the axial finder gave them.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from spinedet.data.levels import ALL_LEVELS
from spinedet.infer.nms import box_centre

REACH = 0.5  # an axial disc votes only within this fraction of the sagittal disc spacing of a sagittal disc


def _named_centres(discs: list[dict]) -> tuple[list[int], np.ndarray]:
    """(level indices, LPS centres (N, 3)) of the discs that carry a level name."""
    named = [d for d in discs if d.get("level") in ALL_LEVELS]
    centres = np.array([box_centre(d["box_lps"]) for d in named]).reshape(-1, 3)
    return [ALL_LEVELS.index(d["level"]) for d in named], centres


def level_shift(axial_discs: list[dict], sagittal_discs: list[dict]) -> int | None:
    """The number of levels to add to every axial name (None where no axial disc lies near a sagittal one, or the
    sagittal scan names fewer than two discs, so that its spacing is unknown)."""
    sag_levels, sag_centres = _named_centres(sagittal_discs)
    ax_levels, ax_centres = _named_centres(axial_discs)
    if len(sag_levels) < 2 or not ax_levels:
        return None
    order = np.argsort(-sag_centres[:, 2])  # head to foot
    spacing = float(np.median(np.linalg.norm(np.diff(sag_centres[order], axis=0), axis=1)))
    votes: dict[int, list[float]] = defaultdict(list)
    for level, centre in zip(ax_levels, ax_centres):
        distance = np.linalg.norm(sag_centres - centre, axis=1)
        nearest = int(np.argmin(distance))
        if distance[nearest] <= REACH * spacing:
            votes[sag_levels[nearest] - level].append(float(distance[nearest]))
    if not votes:
        return None
    return min(votes, key=lambda shift: (-len(votes[shift]), sum(votes[shift])))


def _renamed(entries: list[dict], shift: int) -> list[dict]:
    """Findings or discs with their levels moved `shift` levels down the spine (None past its end)."""
    out = []
    for entry in entries:
        k = ALL_LEVELS.index(entry["level"]) + shift if entry.get("level") in ALL_LEVELS else None
        out.append(entry if k is None else {**entry, "level": ALL_LEVELS[k] if 0 <= k < len(ALL_LEVELS) else None})
    return out


def named_from_sagittal(findings: list[dict], discs: list[dict], sagittal: list[dict]
                        ) -> tuple[list[dict], list[dict], dict | None]:
    """An axial scan's (findings, discs) renamed against the discs of its patient's sagittal scan records (the one
    naming most discs), and {"scan": its id, "shift": levels moved} (None, names unchanged, where nothing voted)."""
    if not sagittal:
        return findings, discs, None
    reference = max(sagittal, key=lambda r: sum(d.get("level") in ALL_LEVELS for d in r["discs"]))
    shift = level_shift(discs, reference["discs"])
    if shift is None:
        return findings, discs, None
    return _renamed(findings, shift), _renamed(discs, shift), {"scan": reference["id"], "shift": shift}


def name_axial_from_sagittal(records: list[dict], sagittal_records: list[dict]) -> list[dict]:
    """Every axial scan record renamed from the sagittal records of its patient, with `levels_from` where a sagittal
    scan named it; other records unchanged."""
    by_patient: dict[str, list[dict]] = defaultdict(list)
    for record in sagittal_records:
        by_patient[record["patient"]].append(record)
    out = []
    for record in records:
        if record["view"] != "axial":
            out.append(record)
            continue
        findings, discs, source = named_from_sagittal(record["findings"], record["discs"],
                                                      by_patient.get(record["patient"], []))
        out.append({**record, "findings": findings, "discs": discs, "levels_from": source} if source else record)
    return out
