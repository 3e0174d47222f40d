"""Level naming: name detected discs by counting along the spine, then give each finding its nearest disc's level."""

from __future__ import annotations

import numpy as np

from spinedet.data.levels import ALL_LEVELS
from spinedet.infer.nms import box_centre

# LPS z grows towards the head (superior).
_Z = 2


def name_discs(discs: list[dict], region: str) -> list[dict]:
    """Discs sorted head to foot, each with "level" set.

    Lumbar counts up from the most inferior disc in world z, which is L5/S1; cervical counts down from the
    most superior, which is C2/C3. Discs beyond the named range (ALL_LEVELS) get level None.
    """
    ordered = sorted(discs, key=lambda d: -box_centre(d["box_lps"])[_Z])
    n = len(ordered)
    if region == "lumbar":
        start = ALL_LEVELS.index("L5/S1") - (n - 1)
    elif region == "cervical":
        start = ALL_LEVELS.index("C2/C3")
    else:
        raise ValueError(f"cannot name levels for region {region!r} (expected 'lumbar' or 'cervical')")
    named = []
    for i, disc in enumerate(ordered):
        k = start + i
        named.append({**disc, "level": ALL_LEVELS[k] if 0 <= k < len(ALL_LEVELS) else None})
    return named


def spine_positions_mm(points_lps: np.ndarray, disc_centres_lps: np.ndarray) -> np.ndarray:
    """Arc-length position (mm, from the first disc) of each point projected on the polyline through the discs.

    `disc_centres_lps` (D, 3) must be in spine order. A point projects onto its nearest segment; beyond the
    first or last disc the end segments are extended. With one disc, positions are along world z.
    """
    points = np.asarray(points_lps, float).reshape(-1, 3)
    centres = np.asarray(disc_centres_lps, float).reshape(-1, 3)
    if len(centres) == 1:
        return centres[0, _Z] - points[:, _Z]
    seg_start, seg_vec = centres[:-1], np.diff(centres, axis=0)
    seg_len = np.linalg.norm(seg_vec, axis=1)
    arc_start = np.concatenate([[0.0], np.cumsum(seg_len)[:-1]])
    positions = np.empty(len(points))
    for n, p in enumerate(points):
        t = np.einsum("sd,sd->s", p - seg_start, seg_vec) / np.maximum(seg_len**2, 1e-12)
        lo = np.where(np.arange(len(t)) == 0, -np.inf, 0.0)
        hi = np.where(np.arange(len(t)) == len(t) - 1, np.inf, 1.0)
        t = np.clip(t, lo, hi)
        dist = np.linalg.norm(seg_start + t[:, None] * seg_vec - p, axis=1)
        s = int(np.argmin(dist))
        positions[n] = arc_start[s] + t[s] * seg_len[s]
    return positions


def assign_levels(findings: list[dict], named_discs: list[dict]) -> list[dict]:
    """Each finding with "level" set to that of the disc nearest along the spine (None without named discs)."""
    discs = [d for d in named_discs if d.get("level") is not None]
    if not discs or not findings:
        return [{**f, "level": None} for f in findings]
    centres = np.array([box_centre(d["box_lps"]) for d in discs])
    disc_pos = spine_positions_mm(centres, centres)
    find_pos = spine_positions_mm(np.array([box_centre(f["box_lps"]) for f in findings]), centres)
    nearest = np.argmin(np.abs(find_pos[:, None] - disc_pos[None, :]), axis=1)
    return [{**f, "level": discs[int(k)]["level"]} for f, k in zip(findings, nearest)]
