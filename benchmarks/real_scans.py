"""Trained sagittal runs on the real scans of ../shared/realdata against their hand-annotated disc centres: a
lumbar run on the lumbar scan (tests/realdata/lumbar_sag_t2_discs.json), a cervical run on the cervical one
(tests/realdata/cervical_sag_t2_discs.json): disc recall, names, false discs.

    python benchmarks/real_scans.py RUN [RUN ...] [--out DIR] [--json OUT.json]

A disc is found when its annotated centre lies inside a found disc's box (the nearest such box by centre distance);
a found disc holding no annotated centre is false. The lumbar scan's levels are estimates (no sacrum or C2 in view,
see its "levels" note), so "named as estimated" is reported beside the names, not as an accuracy; the cervical
scan's levels are known from its own vertebra labels, so there "named right" is one. With --out, each run's
overview PNG (every found disc and finding above the run's threshold) is written there.
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from spinedet.infer.overlay import intensity_window, overview_png
from spinedet.infer.predictor import Predictor
from spinedet.io.load import load_scan

ROOT = Path(__file__).resolve().parents[1]
ANNOTATIONS = {region: ROOT / "tests" / "realdata" / f"{region}_sag_t2_discs.json" for region in ("lumbar", "cervical")}
REALDATA = ROOT.parent / "shared" / "realdata"


def _inside(point: np.ndarray, box) -> bool:
    box = np.asarray(box, float)
    return bool(np.all(point >= box[:3]) and np.all(point <= box[3:]))


def score_run(run: Path, out: Path | None) -> dict:
    predictor = Predictor.from_run(run)
    region = predictor.meta["region"]
    annotation = json.loads(ANNOTATIONS[region].read_text())
    scan = load_scan(REALDATA / annotation["scan"], region=region)
    findings, discs = predictor.predict(scan, region=region)
    threshold = float(predictor.meta.get("threshold", 0.5))
    shown = [f for f in findings if f["score"] >= threshold]
    rows, holding = [], set()
    for truth in annotation["discs"]:
        centre = np.asarray(truth["centre_lps"], float)
        boxes = [(np.linalg.norm(np.asarray(d["centre_lps"]) - centre), n) for n, d in enumerate(discs)
                 if _inside(centre, d["box_lps"])]
        n = min(boxes)[1] if boxes else None
        holding |= {m for _, m in boxes}
        rows.append({"level": truth.get("level") or truth["level_estimate"], "known": "level" in truth,
                     "found_as": discs[n]["level"] if n is not None else None})
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        overview_png(scan, f"{run.name} on {annotation['scan']}", shown, discs, intensity_window(scan.array),
                     out / f"real-{region}--{run.name}.png")
    found = [r for r in rows if r["found_as"]]
    return {"run": str(run), "scan": annotation["scan"], "levels_known": all(r["known"] for r in rows), "discs": rows,
            "disc_recall": len(found) / len(rows), "named": sum(r["found_as"] == r["level"] for r in found),
            "false_discs": len(discs) - len(holding), "findings_above_threshold": len(shown)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, help="write each run's overview PNG here")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    results = [score_run(run, args.out) for run in args.runs]
    for r in results:
        names = ", ".join(f"{d['level']} -> {d['found_as'] or 'missed'}" for d in r["discs"])
        named = "named right" if r["levels_known"] else "named as estimated"
        print(f"{r['run']} on {r['scan']}: disc recall {r['disc_recall']:.2f}, {named} {r['named']} of "
              f"{len(r['discs'])}, false discs {r['false_discs']}, findings {r['findings_above_threshold']}; {names}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
