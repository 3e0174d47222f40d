"""`spinedet import spider|rsna2024 SRC OUT`: public lumbar MRI collections, as published, into a dataset.json."""

from __future__ import annotations

from pathlib import Path

from spinedet.data.importers import rsna2024, spider
from spinedet.data.importers.output import check_fraction, check_output, write_imported
from spinedet.data.importers.report import ImportReport
from spinedet.errors import SpinedetError


def _common(p) -> None:
    p.add_argument("src", type=Path, help="the dataset's top folder, as downloaded and unpacked")
    p.add_argument("out", type=Path, help="output folder for dataset.json (images are referenced relative to it)")
    p.add_argument("--copy", action="store_true", help="copy the images into OUT/images instead of referencing them")
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="fraction of patients put in split 'val', chosen deterministically by patient id (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT/dataset.json")


def register(subparsers) -> None:
    p = subparsers.add_parser("import", help="import a public lumbar dataset (SPIDER, RSNA 2024) into a dataset.json")
    sources = p.add_subparsers(dest="source", required=True, metavar="SOURCE")
    s = sources.add_parser("spider", help="SPIDER (van der Graaf et al. 2024): sagittal T2 .mha, disc masks, gradings")
    _common(s)
    s.add_argument("--sequences", default=",".join(spider.T2_SEQUENCES),
                   help=f"comma-separated sequences to import, of {','.join(spider.ALL_SEQUENCES)} (default t2,t2_SPACE)")
    s.set_defaults(func=run_spider)
    r = sources.add_parser("rsna2024", help="RSNA 2024 lumbar: sagittal T2/STIR and axial T2 DICOM series, labelled points")
    _common(r)
    r.set_defaults(func=run_rsna2024)


def _finish(args, report: ImportReport, scans: list[dict], classes, target: Path) -> int:
    data = write_imported(scans, classes, target, args.val_fraction, args.overwrite)
    print(report.summary(data, target))
    return 0


def run_spider(args) -> int:
    target = check_output(args.out, args.overwrite)
    check_fraction(args.val_fraction)
    sequences = tuple(s.strip() for s in args.sequences.split(",") if s.strip())
    unknown = [s for s in sequences if s not in spider.ALL_SEQUENCES]
    if unknown or not sequences:
        raise SpinedetError(f"--sequences {args.sequences!r}: use names from {list(spider.ALL_SEQUENCES)}")
    report = ImportReport("spider")
    scans = spider.import_spider(args.src, args.out, sequences=sequences, copy=args.copy, overwrite=args.overwrite,
                                 report=report)
    return _finish(args, report, scans, spider.CLASSES, target)


def run_rsna2024(args) -> int:
    target = check_output(args.out, args.overwrite)
    check_fraction(args.val_fraction)
    report = ImportReport("rsna2024")
    scans = rsna2024.import_rsna2024(args.src, args.out, copy=args.copy, overwrite=args.overwrite, report=report)
    return _finish(args, report, scans, rsna2024.CLASSES, target)
