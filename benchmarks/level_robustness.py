"""Level names under changed fields of view: a trained run's discs on sagittal scans as they are, cut along the spine
(sacrum or C2 out of view, upper or lower discs out of view), and with a copy of the last disc pasted at the
lower image edge (a false disc where the old detector's false box shifted every name).

    python benchmarks/level_robustness.py RUN DATASET [--split val] [--max-scans 32] [--json OUT.json]

Per case: true discs wholly in view, found discs whose centre lies in a true disc box ("found"), found discs named
otherwise than that truth ("misnamed"), and found discs named a level that is not in view ("named outside view").
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spinedet.data.dataset import image_path, load_dataset
from spinedet.data.fov import copy_rows_to_edge, cut_along_spine, index_of_z, superior_axis, z_range
from spinedet.eval.discs import names_of_found
from spinedet.infer.predictor import Predictor
from spinedet.io.load import load_scan

# region -> case -> (upper disc, lower disc) between which the view is cut, and which side goes
CUTS = {"lumbar": {"sacrum out of view": ("L4/L5", "L5/S1", "below"), "T10-L1 out of view": ("T12/L1", "L1/L2", "above")},
        "cervical": {"C2 out of view": ("C2/C3", "C3/C4", "above"), "T1 and below out of view": ("C7/T1", "T1/T2", "below")}}
LAST_DISC = {"lumbar": "L5/S1", "cervical": "C7/T1"}


def _centre_z(disc: dict) -> float:
    return (disc["box_lps"][2] + disc["box_lps"][5]) / 2


def cases_of(scan, discs: dict, region: str) -> dict:
    """The doctored versions of one scan that its discs allow."""
    cases = {"as acquired": scan}
    for name, (upper, lower, side) in CUTS[region].items():
        if upper in discs and lower in discs:
            cut = index_of_z(scan, (discs[upper]["box_lps"][2] + discs[lower]["box_lps"][5]) / 2)
            end = scan.shape[superior_axis(scan)]
            cases[name] = cut_along_spine(scan, 0, cut) if side == "below" else cut_along_spine(scan, cut, end)
    last = discs.get(LAST_DISC[region])
    if last is not None:
        rows = sorted(index_of_z(scan, z) for z in last["box_lps"][2::3])
        cases["copy of the last disc at the lower edge"] = copy_rows_to_edge(scan, *rows)
    return cases


def naming(found: list[dict], scan, truth: list[dict]) -> dict:
    low, high = z_range(scan)
    shown = [d for d in truth if low < d["box_lps"][2] and d["box_lps"][5] < high]
    pairs = names_of_found(found, shown)
    return {"in_view": len(shown), "found": len(pairs), "misnamed": sum(a != b for a, b in pairs),
            "named_outside_view": sum(d["level"] not in {t["level"] for t in shown} for d in found)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("dataset", type=Path)
    p.add_argument("--split", default="val")
    p.add_argument("--max-scans", type=int, default=32)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    predictor = Predictor.from_run(args.run)
    region = predictor.meta["region"]
    entries = [s for s in load_dataset(args.dataset)["scans"] if s["view"] == "sagittal" and s["region"] == region
               and (args.split == "all" or s.get("split") == args.split)][: args.max_scans]
    totals: dict[str, dict] = {}
    for entry in entries:
        scan = load_scan(image_path(args.dataset, entry), view="sagittal", region=region)
        for case, doctored in cases_of(scan, {d["level"]: d for d in entry["discs"]}, region).items():
            _, found = predictor.predict(doctored, region)
            counts = naming(found, doctored, entry["discs"])
            total = totals.setdefault(case, {"scans": 0, **{k: 0 for k in counts}})
            total["scans"] += 1
            for k, v in counts.items():
                total[k] += v
    print(f"{args.run} on {len(entries)} {region} sagittal scans of {args.dataset} ({args.split})")
    print("| case | scans | discs in view | found | misnamed | named outside view |\n|---|---|---|---|---|---|")
    for case, t in totals.items():
        print(f"| {case} | {t['scans']} | {t['in_view']} | {t['found']} | {t['misnamed']} | {t['named_outside_view']} |")
    if args.json:
        args.json.write_text(json.dumps({"run": str(args.run), "dataset": str(args.dataset), "cases": totals}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
