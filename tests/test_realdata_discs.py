"""The hand-annotated disc centres of the real lumbar scan (tests/realdata/lumbar_sag_t2_discs.json) sit on discs
when the scan is loaded through spinedet's own reader: on T2 a disc's nucleus is a thin bright band between the
dark endplates, so intensity along the spine peaks at each centre (a centre 3 mm off, 12 mm off front to back or
mirrored left-right fails)."""

import json
from pathlib import Path

import numpy as np
import pytest

from spinedet.io import geometry
from spinedet.io.load import load_scan

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
ANNOTATION = Path(__file__).parent / "realdata" / "lumbar_sag_t2_discs.json"
ENDPLATE_OFFSET_MM = 4.0  # disc centre to the dark endplates above and below (nucleus about 4-6 mm tall)
SAMPLE_HALF_MM = (1.5, 1.0, 4.0)  # left-right, head-foot, front-back half sizes (canonical sagittal axes)


def _mean_near(scan, point_lps: np.ndarray, half_mm) -> float:
    """Mean intensity of the scan voxels within `half_mm` of a world point (canonical voxel order)."""
    centre = geometry.world_to_voxel(point_lps[None], scan.affine)[0]
    half = np.asarray(half_mm) / scan.spacing_mm
    lo = np.clip(np.floor(centre - half).astype(int), 0, np.array(scan.shape) - 1)
    hi = np.clip(np.ceil(centre + half).astype(int) + 1, 1, np.array(scan.shape))
    return float(scan.array[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].mean())


@pytest.mark.skipif(not (REALDATA / "lumbar_sag_t2.nii.gz").is_file(), reason="shared/realdata is absent")
def test_annotated_disc_centres_are_brighter_than_the_endplates_around_them():
    annotation = json.loads(ANNOTATION.read_text())
    scan = load_scan(REALDATA / annotation["scan"])
    assert scan.view == "sagittal"
    discs = annotation["discs"]
    assert len(discs) == 6
    z = [d["centre_lps"][2] for d in discs]
    assert z == sorted(z, reverse=True)  # head to foot
    ratios = []
    for disc in discs:
        centre = np.array(disc["centre_lps"], float)
        above, below = (centre + [0, 0, sign * ENDPLATE_OFFSET_MM] for sign in (1, -1))
        ratios.append(_mean_near(scan, centre, SAMPLE_HALF_MM)
                      / max(_mean_near(scan, above, SAMPLE_HALF_MM), _mean_near(scan, below, SAMPLE_HALF_MM)))
    assert min(ratios) > 1.0 and np.median(ratios) > 1.2, ratios
