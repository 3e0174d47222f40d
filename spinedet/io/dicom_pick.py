"""Choose the series of a study that detection should use for a view, and say why."""

from __future__ import annotations

from collections import Counter


def _label(series) -> str:
    if series.problem:
        return "unusable"
    if series.localiser:
        return "localiser"
    return f"{series.view} {series.weighting[0]}"


def pick_series(series_list: list, view: str) -> tuple[object | None, str]:
    """The best T2 stack of `view` in a study and the reason; (None, reason) when the study has none.

    Candidates: usable, not a localiser, weighting T2 (from the description, else TE/TR). Among them:
    without fat suppression first, then the most slices (the largest block of a per-disc axial series),
    then the smallest tilt, then the lowest series number.
    """
    candidates = [
        (i, s) for i, s in enumerate(series_list)
        if s.problem is None and not s.localiser and s.view == view and s.weighting[0] == "t2"
    ]
    others = Counter(_label(s) for s in series_list if all(s is not c for _, c in candidates))
    not_used = ", ".join(f"{n} {label}" for label, n in sorted(others.items()))
    if not candidates:
        return None, f"no usable {view} T2 series among {len(series_list)} ({not_used or 'none'})"
    candidates.sort(key=lambda c: (c[1].fat_suppressed, -c[1].shape[0], c[1].view_and_tilt[1], c[0]))
    index, best = candidates[0]
    tilt = best.view_and_tilt[1]
    reason = (f"{view} T2 [{index}] {best.key} '{best.description}': {best.shape[0]} slices, tilt {tilt:.1f} deg, "
              f"T2 by {best.weighting[1]}")
    if len(candidates) > 1:
        reason += "; preferred (no fat suppression, most slices, least tilt) over " + ", ".join(
            f"[{i}] {s.shape[0]} slices{' FS' if s.fat_suppressed else ''}" for i, s in candidates[1:])
    if not_used:
        reason += f"; not T2 {view}: {not_used}"
    return best, reason
