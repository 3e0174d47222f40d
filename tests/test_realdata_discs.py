"""The hand-annotated disc centres of the real lumbar and cervical scans (tests/realdata/*_discs.json) sit on discs
when the scan is loaded through spinedet's own reader: on T2 a disc's nucleus is a thin bright band between the
dark endplates, so intensity along the spine peaks at each centre (a centre 3 mm off, 12 mm off front to back or
mirrored left-right fails). The cervical names agree with the scan's own vertebra labels."""

import json
from pathlib import Path

import numpy as np
import pytest

from spinedet.io import geometry
from spinedet.io.load import load_scan

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
ANNOTATIONS = {"lumbar_sag_t2.nii.gz": 6, "cervical_sag_t2.nii.gz": 5}  # scan -> annotated discs
# disc centre to the dark endplates above and below: lumbar nuclei are about 4-6 mm tall, cervical discs 4-6 mm in all
ENDPLATE_OFFSET_MM = {"lumbar_sag_t2.nii.gz": 4.0, "cervical_sag_t2.nii.gz": 3.0}
SAMPLE_HALF_MM = (1.5, 1.0, 4.0)  # left-right, head-foot, front-back half sizes (canonical sagittal axes)


def _mean_near(scan, point_lps: np.ndarray, half_mm) -> float:
    """Mean intensity of the scan voxels within `half_mm` of a world point (canonical voxel order)."""
    centre = geometry.world_to_voxel(point_lps[None], scan.affine)[0]
    half = np.asarray(half_mm) / scan.spacing_mm
    lo = np.clip(np.floor(centre - half).astype(int), 0, np.array(scan.shape) - 1)
    hi = np.clip(np.ceil(centre + half).astype(int) + 1, 1, np.array(scan.shape))
    return float(scan.array[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].mean())


def _annotation(scan_name: str) -> dict:
    return json.loads((Path(__file__).parent / "realdata" / scan_name.replace(".nii.gz", "_discs.json")).read_text())


@pytest.mark.parametrize("scan_name", ANNOTATIONS)
def test_annotated_disc_centres_are_brighter_than_the_endplates_around_them(scan_name):
    if not (REALDATA / scan_name).is_file():
        pytest.skip("shared/realdata is absent")
    annotation = _annotation(scan_name)
    scan = load_scan(REALDATA / annotation["scan"])
    assert scan.view == "sagittal"
    discs = annotation["discs"]
    assert len(discs) == ANNOTATIONS[scan_name]
    z = [d["centre_lps"][2] for d in discs]
    assert z == sorted(z, reverse=True)  # head to foot
    for n in (n for n, disc in enumerate(discs) if disc.get("dark")):  # a dry disc: halfway between its neighbours
        assert 0.4 < (z[n - 1] - z[n]) / (z[n - 1] - z[n + 1]) < 0.6
    ratios = []
    for disc in (disc for disc in discs if not disc.get("dark")):
        centre = np.array(disc["centre_lps"], float)
        above, below = (centre + [0, 0, sign * ENDPLATE_OFFSET_MM[scan_name]] for sign in (1, -1))
        ratios.append(_mean_near(scan, centre, SAMPLE_HALF_MM)
                      / max(_mean_near(scan, above, SAMPLE_HALF_MM), _mean_near(scan, below, SAMPLE_HALF_MM)))
    assert min(ratios) > 1.0 and np.median(ratios) > 1.2, ratios


def test_the_cervical_names_agree_with_the_scans_own_vertebra_labels():
    annotation = _annotation("cervical_sag_t2.nii.gz")
    z = {d["level"]: d["centre_lps"][2] for d in annotation["discs"]}
    anchors = {a["vertebra"]: a["centre_lps"][2] for a in annotation["anchors"]}
    assert z["C3/C4"] < anchors["C3"] < z["C2/C3"]  # C3 lies between its two discs
    spacing = (z["C2/C3"] - z["C6/C7"]) / 4
    # T4's centre lies between T3/T4 and T4/T5: four and five disc spacings below C6/C7 (C7/T1 ... T3/T4, T4/T5)
    assert z["C6/C7"] - 5 * spacing < anchors["T4"] < z["C6/C7"] - 4 * spacing
