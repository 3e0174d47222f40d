"""`spinedet preview DATASET --out FILE.png`: mid-sagittal and axial slices with boxes and levels, per centre."""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLOURS = {"herniation": "#ff3b30", "bulge": "#ffcc00", "degenerated_disc": "#34c759", "stenosis": "#af52de"}
DISC_COLOUR = "#5ac8fa"


def register(subparsers) -> None:
    p = subparsers.add_parser("preview", help="montage of a dataset's scans with boxes and levels (PNG)")
    p.add_argument("dataset", type=Path)
    p.add_argument("--out", type=Path, required=True, help="PNG file to write")
    p.add_argument("--per-center", type=int, default=2, help="patients shown per centre")
    p.add_argument("--dpi", type=int, default=90)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def pick_patients(data: dict, per_center: int) -> list[list[dict]]:
    """Per centre, the first patients with both views, those with findings first: [[sagittal, axial], ...]."""
    by_patient: dict[str, dict] = {}
    for scan in data["scans"]:
        by_patient.setdefault(scan["patient"], {})[scan["view"]] = scan
    rows = []
    for center in sorted({s["center"] for s in data["scans"]}):
        pats = [p for p in by_patient.values() if {"sagittal", "axial"} <= set(p)
                and p["sagittal"]["center"] == center]
        pats.sort(key=lambda p: (not p["sagittal"]["findings"], p["sagittal"]["patient"]))
        rows += [[p["sagittal"], p["axial"]] for p in pats[:per_center]]
    return rows


def _slice_index(scan, entry: dict) -> int:
    """Middle slice for sagittal; for axial, the slice through the first finding (else the middle)."""
    from spinedet.io.geometry import box_world_to_voxel

    n = scan.shape[0]
    if entry["view"] == "axial" and entry["findings"]:
        box = box_world_to_voxel(entry["findings"][0]["box_lps"], scan.affine)
        return int(np.clip(round(0.5 * (box[0] + box[3])), 0, n - 1))
    return n // 2


def draw(ax, scan, entry: dict) -> None:
    """One slice at a percentile window, with the boxes that cross it and their levels."""
    from matplotlib.patches import Rectangle

    from spinedet.io.geometry import box_world_to_voxel

    i = _slice_index(scan, entry)
    image = scan.array[i]
    lo, hi = np.percentile(scan.array, [0.5, 99.5])
    ax.imshow(image, cmap="gray", vmin=lo, vmax=hi, aspect=scan.spacing_mm[1] / scan.spacing_mm[2])
    items = [(d, DISC_COLOUR, d["level"]) for d in entry["discs"]]
    items += [(f, COLOURS.get(f["class"], "w"), f"{f['class']} {f['level']}") for f in entry["findings"]]
    for item, colour, text in items:
        b = box_world_to_voxel(item["box_lps"], scan.affine)
        if not b[0] <= i <= b[3]:
            continue
        ax.add_patch(Rectangle((b[2], b[1]), b[5] - b[2], b[4] - b[1], fill=False, lw=0.8, ec=colour))
        if item in entry["findings"] or entry["view"] == "sagittal":
            ax.text(b[5] + 1, b[1], text, color=colour, fontsize=5, va="top")
    ax.set_title(f"{entry['id']} ({entry['center']}, {entry['split']}) slice {i}", fontsize=6)
    ax.axis("off")


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spinedet.atomic import atomic_path
    from spinedet.data.dataset import image_path, load_dataset
    from spinedet.errors import SpinedetError
    from spinedet.io.load import load_scan

    data = load_dataset(args.dataset)
    rows = pick_patients(data, args.per_center)
    if not rows:
        raise SpinedetError(f"{args.dataset}: no patient with both a sagittal and an axial scan to preview")
    cols = 2 * min(len(rows), 4)
    nrows = int(np.ceil(len(rows) / (cols // 2)))
    fig, axes = plt.subplots(nrows, cols, figsize=(2.4 * cols, 2.6 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, pair in enumerate(rows):
        for j, entry in enumerate(pair):
            scan = load_scan(image_path(args.dataset, entry), view=entry["view"])
            draw(axes[k // (cols // 2), 2 * (k % (cols // 2)) + j], scan, entry)
    fig.suptitle(f"{args.dataset}: boxes (disc levels in blue; findings by class)", fontsize=8)
    fig.tight_layout()
    with atomic_path(args.out, args.overwrite) as tmp:
        fig.savefig(tmp, dpi=args.dpi, format="png")
    plt.close(fig)
    print(f"{args.out}: {len(rows)} patients")
    return 0
