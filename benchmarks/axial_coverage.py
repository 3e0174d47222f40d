"""Which of C5's differences misnames its axial discs: C5 test patients rendered with one scanner setting or the
stack's coverage swapped for C1's, and a trained lumbar axial run's disc names on each.

    python benchmarks/axial_coverage.py RUN [--patients 16] [--out DIR]

Variants: C5 as it is; C5 with C1's axial slices (4 mm, no gap, 0.65 mm pixels); C5 without the tilted stack; C1's
scanner with C5's coverage (L4/L5-L5/S1); C5's scanner with C1's coverage (L3/L4-L5/S1). Per variant: true discs,
discs kept by level naming within 12 mm of one, those named right, and the names the upper disc got.
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

from spinedet.data.dataset import image_path, read_json
from spinedet.infer.predictor import Predictor
from spinedet.io.load import load_scan
from spinedet.synth import cohort, generate
from spinedet.synth.scanner import CENTRES

C1, C5 = CENTRES["C1"], CENTRES["C5"]
VARIANTS = {
    "C5 as it is": C5,
    "C5, C1's axial slices": replace(C5, axial=C1.axial),
    "C5, stack not tilted": replace(C5, axial_tilt=False),
    "C1's scanner, C5's coverage": replace(C1, name="C5", axial_levels=C5.axial_levels),
    "C5's scanner, C1's coverage": replace(C5, axial_levels=C1.axial_levels),
}


def rendered(profile, folder: Path, patients: int) -> Path:
    """dataset.json of `patients` C5 test patients (quick preset, seed 0) rendered with `profile` as C5."""
    saved = cohort.CENTRES["C5"]
    cohort.CENTRES["C5"] = profile  # generate renders in this process (workers=1), so the swap reaches it
    try:
        return generate(folder, preset="quick", seed=0, patients={"C5": {"test": patients}})
    finally:
        cohort.CENTRES["C5"] = saved


def names(predictor: Predictor, dataset: Path) -> tuple[int, int, int, Counter]:
    """(true discs, kept near one, named right, names of the upper disc) over the dataset's axial scans."""
    total = kept = right = 0
    upper = Counter()
    for entry in (e for e in read_json(dataset)["scans"] if e["view"] == "axial"):
        scan = load_scan(image_path(dataset, entry), view="axial", region="lumbar")
        _, discs = predictor.predict(scan, "lumbar")
        truth = {d["level"]: (d["box_lps"][2] + d["box_lps"][5]) / 2 for d in entry["discs"]}
        top = max(truth, key=truth.get)
        for level, z in truth.items():
            total += 1
            near = [d for d in discs if abs(float(d["centre_lps"][2]) - z) < 12.0]
            if near:
                kept += 1
                right += near[0]["level"] == level
                if level == top:
                    upper[near[0]["level"]] += 1
    return total, kept, right, upper


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--patients", type=int, default=16)
    p.add_argument("--out", type=Path, help="folder for the rendered variants (default: a temporary one)")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp())
    predictor = Predictor.from_run(args.run)
    print("| variant | true discs | kept | named right | upper disc named |\n|---|---|---|---|---|")
    for n, (label, profile) in enumerate(VARIANTS.items()):
        total, kept, right, upper = names(predictor, rendered(profile, out / f"variant{n}", args.patients))
        print(f"| {label} | {total} | {kept} | {right} | {dict(upper)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
