"""What the level judge sees: a montage of its crops at true discs, one row per grade of a class (top row: discs
without that finding), each crop's middle slice (sagittal: the mid-sagittal plane, head up and back to the right;
axial: the disc plane, back down).

    python benchmarks/judge_crops.py out/study/sets/internal.json --view axial --class stenosis --out crops.png \
        [--config small] [--crop '{"shape": [10, 64, 64], "offset_mm": [0, 12]}']

`--crop` overrides the config's lumbar crop for the view (to look at a crop before training with it).
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from spinedet.data.dataset import DISC_CLASS, load_dataset  # noqa: E402
from spinedet.data.grades import GRADES  # noqa: E402
from spinedet.data.level_crops import disc_crops  # noqa: E402
from spinedet.train.config import load_config  # noqa: E402
from spinedet.train.level_task import LevelTask  # noqa: E402

PER_ROW = 6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", type=Path)
    p.add_argument("--view", choices=("sagittal", "axial"), required=True)
    p.add_argument("--class", dest="name", default="stenosis", choices=sorted(GRADES))
    p.add_argument("--config", default="small")
    p.add_argument("--crop", default="{}", help="JSON overriding the crop's spacing_mm, shape or offset_mm")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    data = load_dataset(args.dataset)
    task = LevelTask(load_config(args.config), [*data["classes"], DISC_CLASS], "lumbar", args.view)
    crop = {**task.section["crop"], **json.loads(args.crop)}
    c = task.classes.index(args.name)
    rows: dict[int, list] = {g: [] for g in range(-1, len(GRADES[args.name]))}
    for entry in (e for e in data["scans"] if e["view"] == args.view):
        item = task.prepare(args.dataset, entry)
        if not len(item.truth.levels):
            continue
        crops = disc_crops(item.volume, item.truth.centres_lps, crop).crops.numpy()
        for k, x in enumerate(crops):
            grade = int(item.truth.grades[k, c])
            if len(rows[grade]) < PER_ROW:
                rows[grade].append(x[x.shape[0] // 2])
        if all(len(r) == PER_ROW for r in rows.values()):
            break
    fig, axes = plt.subplots(len(rows), PER_ROW, figsize=(2.2 * PER_ROW, 2.2 * len(rows)), squeeze=False)
    for axes_row, (grade, images) in zip(axes, rows.items()):
        for n, ax in enumerate(axes_row):
            ax.axis("off")
            if n < len(images):
                ax.imshow(images[n], cmap="gray")
                ax.set_title("no finding" if grade < 0 else GRADES[args.name][grade], fontsize=8)
    fig.suptitle(f"{args.view} judge crops at true discs, {args.name}, {args.dataset.stem}: {crop}", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    print(f"{args.out}: {({g: len(r) for g, r in rows.items()})} crops per row")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
