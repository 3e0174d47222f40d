"""`spinedet inspect PATH`: say what would be loaded, with its geometry."""

from __future__ import annotations

import json

from spinedet.io.load import load_scan


def register(subparsers) -> None:
    p = subparsers.add_parser("inspect", help="show what a scan file or DICOM folder would load as")
    p.add_argument("path", help="image file (.nii, .nii.gz, .mha, .mhd, .nrrd) or DICOM series/study folder")
    p.add_argument("--json", action="store_true", help="print one JSON object per series")
    p.set_defaults(func=run)


def run(args) -> int:
    scan = load_scan(args.path)
    info = scan.describe()
    if args.json:
        print(json.dumps(info))
        return 0
    print(f"{info['path']}")
    print(f"  view        {info['view']} (tilt {info['tilt_deg']:.1f} deg)")
    print(f"  shape       {' x '.join(map(str, info['shape']))} (slice, row, column)")
    print(f"  spacing_mm  {' x '.join(f'{s:.3g}' for s in info['spacing_mm'])}")
    for row in info["affine"][:3]:
        print(f"  affine      {' '.join(f'{v:9.3f}' for v in row)}")
    return 0
