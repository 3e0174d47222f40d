"""Synthetic vs real T2 spine MRI: tissue intensity ratios, noise and field of view, plus a side-by-side figure.

Real scans: ../shared/realdata (README there). Their tissue regions are small boxes placed by hand on the
slices named below (canonical (slice, row0, row1, col0, col1), end-exclusive), each checked by eye; the
synthetic ones come from the generator's own label maps (voxels whose sub-slices are all one tissue).
Usage: python benchmarks/synth_realism.py [--figure docs/img/synth_vs_real.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from spinedet.io.load import load_scan
from spinedet.synth import tissues as T
from spinedet.synth.cohort import patient_rng
from spinedet.synth.patient import make_patient, render_scan
from spinedet.synth.scanner import CENTRES

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
TISSUES = ("csf", "nucleus", "marrow", "cord", "muscle", "fat")
REAL_ROIS = {
    ("lumbar_sag_t2.nii.gz", "sagittal"): {
        "csf": [(19, 98, 103, 173, 180)], "nucleus": [(19, 99, 102, 151, 164)], "marrow": [(19, 80, 91, 145, 166)],
        "muscle": [(19, 113, 118, 191, 205)], "fat": [(19, 83, 88, 210, 214), (19, 98, 102, 208, 212)],
        "air": [(19, 10, 60, 230, 250)],
    },
    ("cervical_sag_t2.nii.gz", "sagittal"): {
        "csf": [(26, 86, 95, 212, 214), (26, 86, 95, 221, 223)], "cord": [(26, 86, 95, 215, 220)],
        "marrow": [(26, 85, 96, 189, 198)], "muscle": [(26, 85, 96, 246, 257)], "fat": [(26, 117, 123, 282, 295)],
        "air": [(26, 150, 190, 20, 80)],
    },
    ("cervical_ax_t2.nii.gz", "axial"): {
        "csf": [(9, 124, 127, 149, 153), (9, 124, 127, 171, 175)], "cord": [(9, 122, 131, 157, 168)],
        "marrow": [(9, 100, 113, 150, 172)], "muscle": [(9, 150, 175, 120, 136)], "fat": [(9, 197, 203, 118, 133)],
        "air": [(9, 5, 40, 5, 60)],
    },
}
SYNTH = (("C1", "sagittal"), ("C2", "sagittal"), ("C3", "sagittal"), ("C4", "sagittal"), ("C4", "axial"))
LABEL_CODES = {"csf": [T.CSF], "nucleus": list(range(T.NUCLEUS0, T.ANNULUS0)), "marrow": [T.MARROW],
               "cord": [T.CORD], "muscle": [T.MUSCLE], "fat": [T.FAT], "air": [T.AIR]}


def _row(name: str, scan, values: dict) -> dict:
    fov = np.asarray(scan.shape[1:]) * scan.spacing_mm[1:]
    csf = values["csf"]
    row = {"scan": name, "matrix": "x".join(map(str, scan.shape)),
           "spacing_mm": "x".join(f"{s:.2f}" for s in scan.spacing_mm), "fov_mm": "x".join(f"{f:.0f}" for f in fov)}
    row.update({t: (f"{values[t] / csf:.2f}" if t in values else "-") for t in TISSUES})
    row["noise/csf"] = f"{values['air'] / np.sqrt(np.pi / 2) / csf:.3f}"  # Rayleigh: mean = sigma sqrt(pi/2)
    return row


def real_rows() -> list[tuple[dict, object]]:
    out = []
    for (file, view), rois in REAL_ROIS.items():
        scan = load_scan(REALDATA / file, view=view)
        values = {t: float(np.median(np.concatenate([scan.array[s, r0:r1, c0:c1].ravel()
                                                      for s, r0, r1, c0, c1 in boxes])))
                  for t, boxes in rois.items()}
        values["air"] = float(np.mean(np.concatenate([scan.array[s, r0:r1, c0:c1].ravel()
                                                      for s, r0, r1, c0, c1 in rois["air"]])))
        out.append((_row(f"real {file}", scan, values), (scan.array, scan.spacing_mm, scan.shape[0] // 2)))
    return out


def synth_rows(sub_slices: int = 4) -> list[tuple[dict, object]]:
    out = []
    for centre, view in SYNTH:
        profile = CENTRES[centre]
        rng = patient_rng(0, centre, 1)
        patient = make_patient("p", profile, rng)
        if view == "axial":
            render_scan(patient, "sagittal", profile, rng, 1)  # same random stream as `spinedet synth`
        scan = render_scan(patient, view, profile, rng, sub_slices)
        sub = scan.labels.reshape(-1, sub_slices, *scan.labels.shape[1:])
        pure = (sub == sub[:, :1]).all(axis=1)
        label = sub[:, 0]
        values = {}
        for tissue, codes in LABEL_CODES.items():
            voxels = scan.image[pure & np.isin(label, codes)].astype(float)
            if voxels.size >= 20:
                values[tissue] = float(voxels.mean() if tissue == "air" else np.median(voxels))

        class _S:  # what _row needs of a Scan
            shape = scan.image.shape
            spacing_mm = np.linalg.norm(scan.affine[:3, :3], axis=0)
        out.append((_row(f"synth {centre} {view}", _S, values), (scan.image, _S.spacing_mm, scan.image.shape[0] // 2)))
    return out


def table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def figure(pairs: list[tuple[str, tuple]], path: Path) -> None:
    """Mid slices side by side, each at its own 0.5-99.5 percentile window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(pairs), figsize=(2.3 * len(pairs), 2.6))
    for ax, (title, (array, spacing, index)) in zip(axes, pairs):
        lo, hi = np.percentile(array, [0.5, 99.5])
        ax.imshow(array[index], cmap="gray", vmin=lo, vmax=hi, aspect=spacing[1] / spacing[2])
        ax.set_title(title, fontsize=6)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure", type=Path, help="write the side-by-side PNG here")
    args = parser.parse_args()
    real = real_rows() if REALDATA.is_dir() else []
    synth = synth_rows()
    print("Tissue medians relative to CSF; noise sigma relative to CSF (from the background's Rayleigh mean).")
    print(table([r for r, _ in real + synth]))
    if args.figure:
        order = [real[0], synth[0], real[1], synth[3], real[2], synth[4]] if real else synth
        figure([(r["scan"].replace(".nii.gz", ""), img) for r, img in order], args.figure)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
