"""Spinal levels: the names of the intervertebral spaces, in cranio-caudal order."""

VERTEBRAE = (
    [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)] + ["S1"]
)
ALL_LEVELS = tuple(f"{a}/{b}" for a, b in zip(VERTEBRAE[1:-1], VERTEBRAE[2:]))  # C2/C3 ... L5/S1
LUMBAR_LEVELS = ("T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1")
CERVICAL_LEVELS = ("C2/C3", "C3/C4", "C4/C5", "C5/C6", "C6/C7", "C7/T1")
REGION_LEVELS = {"lumbar": LUMBAR_LEVELS, "cervical": CERVICAL_LEVELS}


def level_index(level: str) -> int:
    """Position of a level from the top of the spine (C2/C3 is 0)."""
    return ALL_LEVELS.index(level)
