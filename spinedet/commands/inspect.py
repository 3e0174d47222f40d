"""`spinedet inspect PATH`: say what would be loaded, with its geometry; for a DICOM study, list and pick series."""

from __future__ import annotations

import json
from pathlib import Path

from spinedet.io.dicom import list_series, load_series, pick_series, select_series
from spinedet.io.load import load_scan

PICK_VIEWS = ("sagittal", "axial")


def register(subparsers) -> None:
    p = subparsers.add_parser("inspect", help="show what a scan file or DICOM folder would load as")
    p.add_argument("path", type=Path, help="image file (.nii, .nii.gz, .mha, .mhd, .nrrd) or DICOM series/study folder")
    p.add_argument("--json", action="store_true", help="print one JSON object per series (one per line)")
    p.add_argument("--series", help="series UID, UID#stack or index (from the listing) to load from a study folder")
    p.set_defaults(func=run)


def _print_one(info: dict) -> None:
    print(f"{info['path']}")
    if info.get("series_uid"):
        print(f"  series      {info.get('series_key', info['series_uid'])} '{info.get('description', '')}'")
    if "weighting" in info:
        print(f"  weighting   {info['weighting']} (from {info['weighting_from']})")
    print(f"  view        {info['view']} (tilt {info['tilt_deg']:.1f} deg)")
    print(f"  region      {info.get('region') or 'unknown'}")
    print(f"  shape       {' x '.join(map(str, info['shape']))} (slice, row, column)")
    print(f"  spacing_mm  {' x '.join(f'{s:.3g}' for s in info['spacing_mm'])}")
    for row in info["affine"][:3]:
        print(f"  affine      {' '.join(f'{v:9.3f}' for v in row)}")


def _study(path: Path, series_list: list, as_json: bool) -> None:
    infos = [s.describe(i) for i, s in enumerate(series_list)]
    reasons = []
    for view in PICK_VIEWS:
        best, reason = pick_series(series_list, view)
        reasons.append(f"{view}: {reason}")
        for info, s in zip(infos, series_list):
            if s is best:
                info.update(picked_for=view, pick_reason=reason)
    if as_json:
        for info in infos:
            print(json.dumps(info))
        return
    print(f"{path}: {len(infos)} series stack(s)")
    for i, info in enumerate(infos):
        problem = f"  UNUSABLE: {info['problem']}" if info["problem"] else ""
        print(f"  [{i}] {info['series_key']}  '{info['description']}'  {info['view']} (tilt {info['tilt_deg']:.1f})  "
              f"{info['weighting']}{' FS' if info['fat_suppressed'] else ''}{' localiser' if info['localiser'] else ''}"
              f"  {info['region'] or 'region?'}  {' x '.join(map(str, info['shape']))}{problem}")
    print("picked for detection:")
    for reason in reasons:
        print(f"  {reason}")


def run(args) -> int:
    path = args.path
    if not path.is_dir():
        info = load_scan(path, series=args.series).describe()
    else:
        series_list = list_series(path)
        if args.series is None and len(series_list) > 1:
            _study(path, series_list, args.json)
            return 0
        chosen = select_series(series_list, args.series, path)
        info = chosen.describe(series_list.index(chosen))
        info.update(load_series(chosen).describe())
    if args.json:
        print(json.dumps(info))
    else:
        _print_one(info)
    return 0
