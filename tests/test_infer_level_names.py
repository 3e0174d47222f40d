"""Disc naming from the finder's own level probabilities and the discs' spacing: order kept, false boxes dropped,
cut fields of view, gaps only where the spacing shows a missed disc."""

import numpy as np

from spinedet.data.levels import ALL_LEVELS
from spinedet.infer.level_names import assign_levels, region_levels

LUMBAR = ["T11/T12", "T12/L1", "L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"]


def _probs(names, confidence=0.8):
    p = np.full((len(names), len(ALL_LEVELS)), (1 - confidence) / (len(ALL_LEVELS) - 1))
    for i, name in enumerate(names):
        p[i, ALL_LEVELS.index(name)] = confidence
    return p


def _centres(z_mm):
    """Disc centres (mm) on a vertical line at the given heights."""
    return np.array([[0.0, 0.0, z] for z in z_mm])


def _even(n, spacing=35.0):
    return _centres(-spacing * np.arange(n))


def _names(indices):
    return [ALL_LEVELS[i] if i is not None else None for i in indices]


def test_confident_levels_are_kept_in_order():
    assert _names(assign_levels(np.full(7, 0.95), _probs(LUMBAR), _even(7), region_levels("lumbar"))) == LUMBAR


def test_a_false_box_below_l5_s1_is_dropped_and_shifts_no_name():
    probs = np.vstack([_probs(LUMBAR), _probs(["L5/S1"], 0.6)])  # an edge artefact that looks like the last disc
    names = _names(assign_levels(np.r_[np.full(7, 0.95), 0.6], probs, _even(8), region_levels("lumbar")))
    assert names == LUMBAR + [None]


def test_a_false_box_above_the_first_disc_is_dropped():
    probs = np.vstack([_probs(["T11/T12"], 0.5), _probs(LUMBAR)])
    names = _names(assign_levels(np.r_[0.5, np.full(7, 0.95)], probs, _even(8), region_levels("lumbar")))
    assert names == [None] + LUMBAR


def test_cut_field_of_view_keeps_the_names_the_finder_sees():
    # sacrum and L5/S1 out of view: the lowest disc is L4/L5, not renamed L5/S1 as counting from the bottom would
    shown = LUMBAR[:-1]
    assert _names(assign_levels(np.full(6, 0.95), _probs(shown), _even(6), region_levels("lumbar"))) == shown
    # C2 out of view: the top cervical disc is C3/C4
    cervical = ["C3/C4", "C4/C5", "C5/C6", "C6/C7", "C7/T1"]
    names = _names(assign_levels(np.full(5, 0.95), _probs(cervical), _even(5, 18.0), region_levels("cervical")))
    assert names == cervical


def test_a_missed_disc_leaves_a_gap_not_a_shift():
    shown = [n for n in LUMBAR if n != "L3/L4"]
    z = -35.0 * np.array([0, 1, 2, 3, 5, 6])  # two spacings between L2/L3 and L4/L5
    assert _names(assign_levels(np.full(6, 0.95), _probs(shown), _centres(z), region_levels("lumbar"))) == shown


def test_the_spacing_puts_the_gap_where_the_missed_disc_is():
    # L4/L5 missed; the four discs above it lean one level too low (0.5 against 0.3 for their own level): without
    # the spacing the gap would move up to T11/T12 - T12/L1, one spacing apart
    shown = [n for n in LUMBAR if n != "L4/L5"]
    probs = _probs(shown)
    for k in range(1, 5):
        probs[k, ALL_LEVELS.index(shown[k])], probs[k, ALL_LEVELS.index(shown[k]) + 1] = 0.3, 0.5
    z = -35.0 * np.array([0, 1, 2, 3, 4, 6])
    assert _names(assign_levels(np.full(6, 0.95), probs, _centres(z), region_levels("lumbar"))) == shown


def test_a_missed_top_disc_shifts_no_name_when_the_first_found_is_unsure():
    # C2/C3 missed; C3/C4 is unsure between C2/C3 and C3/C4 but its neighbours are confident
    cervical = ["C3/C4", "C4/C5", "C5/C6", "C6/C7", "C7/T1"]
    probs = _probs(cervical)
    probs[0, ALL_LEVELS.index("C2/C3")], probs[0, ALL_LEVELS.index("C3/C4")] = 0.55, 0.35
    assert _names(assign_levels(np.full(5, 0.95), probs, _even(5, 18.0), region_levels("cervical"))) == cervical


def test_two_candidates_with_one_level_keep_the_likelier_and_order_decides_ties():
    probs = _probs(["L4/L5", "L4/L5", "L5/S1"])
    probs[1, ALL_LEVELS.index("L4/L5")] = 0.5
    names = _names(assign_levels(np.array([0.95, 0.3, 0.95]), probs, _centres([0, -8, -35]),
                                  region_levels("lumbar")))
    assert names == ["L4/L5", None, "L5/S1"]


def test_levels_outside_the_region_are_never_given():
    probs = _probs(["C5/C6", "L4/L5"], 0.9)
    names = _names(assign_levels(np.array([0.95, 0.95]), probs, _even(2), region_levels("lumbar")))
    assert "C5/C6" not in names and names[1] == "L4/L5"
    assert assign_levels(np.zeros(0), np.zeros((0, len(ALL_LEVELS))), np.zeros((0, 3)), region_levels("lumbar")) == []
