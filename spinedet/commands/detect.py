"""`spinedet detect INPUT --model RUN [--model RUN ...] --out DIR`: findings, levels and overlays for scans."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from spinedet import __version__
from spinedet.atomic import require_empty_dir, staging_dir, write_text
from spinedet.errors import InputError, SpinedetError
from spinedet.infer import findings as F
from spinedet.infer.cross_reference import named_from_sagittal
from spinedet.infer.inputs import Job, dataset_jobs, dicom_jobs, single_scan_job
from spinedet.io.load import load_scan
from spinedet.report.outputs import StudyOutputs


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "detect",
        help="detect disease findings and discs with their levels (research software, not a medical device)",
        description="Apply trained models to a scan file, a series folder, a DICOM study folder or a dataset.json "
        "and write findings.json (with the findings joined per patient and level), findings.csv and overlay PNGs; "
        "for one patient's study also report.html and, for DICOM input, sr.dcm (a DICOM SR). " + F.NOTICE,
    )
    p.add_argument("input", type=Path, help="scan file, DICOM series or study folder, or dataset.json")
    p.add_argument("--model", type=Path, action="append", required=True, help="training run folder (repeatable)")
    p.add_argument("--out", type=Path, required=True, help="output folder (must be empty unless --overwrite)")
    p.add_argument("--threshold", type=float, help="disease score threshold (default: each checkpoint's own)")
    p.add_argument("--disc-threshold", type=float, default=0.0,
                   help="drop discs (and the findings at their levels) scoring below this (default 0: every disc the "
                   "level finder names)")
    p.add_argument("--batch-size", type=int, default=2,
                   help="scans of one view and shape predicted together (default 2; 1: one by one)")
    p.add_argument("--no-overlays", action="store_true", help="skip the PNG overlays")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty --out, replacing outputs")
    p.set_defaults(func=run)


def _resolve_jobs(path: Path, metas: list[dict], out_dir: Path) -> tuple[list[Job], list[str]]:
    """The jobs of a dataset.json, a DICOM series or study folder, or an image file, and notes to print."""
    if not path.exists():
        raise InputError(path, "does not exist")
    if path.is_file() and path.suffix.lower() == ".json":
        return dataset_jobs(path, metas, out_dir)
    if path.is_dir():
        return dicom_jobs(path, metas, out_dir)
    return [single_scan_job(path, load_scan(path), metas, out_dir, {})], []


def _operating(meta: dict, threshold: float) -> float:
    """The checkpoint's own operating threshold (best validation F1), else the threshold findings are reported from."""
    return float(meta["threshold"]) if meta.get("threshold") is not None else threshold


def _threshold(args, meta: dict) -> float:
    score = args.threshold if args.threshold is not None else meta.get("threshold")
    if score is None:
        raise SpinedetError("the checkpoint has no score threshold; pass --threshold")
    if not 0.0 <= score <= 1.0:
        raise SpinedetError(f"threshold {score} is not in [0, 1]")
    return float(score)


def _kept(findings: list[dict], discs: list[dict], disc_threshold: float):
    """Discs at or above the disc threshold, and the findings at their levels (or at no level)."""
    dropped = {d["level"] for d in discs if d["score"] < disc_threshold}
    return [f for f in findings if f["level"] not in dropped], [d for d in discs if d["score"] >= disc_threshold]


def _overlays(scan, job: Job, findings, discs, staging: Path, out_map: dict) -> None:
    from spinedet.infer.overlay import finding_png, intensity_window, overview_png  # matplotlib: only when drawing

    sid = job.info["id"]
    folder = Path("overlays") / (re.sub(r"[^A-Za-z0-9._-]", "_", sid).lstrip(".") or "scan")
    window = intensity_window(scan.array)
    overview_png(scan, sid, findings, discs, window, staging / folder / "overview.png")
    for n, f in enumerate(findings):
        name = f"finding-{n:02d}-{f['class']}-{(f['level'] or 'nolevel').replace('/', '-')}.png"
        finding_png(scan, sid, f, window, staging / folder / name)
        out_map[(sid, n)] = (folder / name).as_posix()


def _axial_last(jobs: list[Job]) -> list[list[int]]:
    """Job indices in two passes, axial scans last, so that each is named from its patient's sagittal scans."""
    axial = [n for n, job in enumerate(jobs) if job.info["view"] == "axial"]
    return [[n for n, job in enumerate(jobs) if job.info["view"] != "axial"], axial]


def _summary(job: Job, findings, discs, levels_from: dict | None = None) -> str:
    levels = " ".join(d["level"] or "?" for d in discs) or "none"
    found = ", ".join(f"{f['class']} {f['level'] or '?'} {f['score']:.2f}" for f in findings) or "none"
    named = f" (levels from {levels_from['scan']})" if levels_from else ""
    return f"{job.info['id']} ({job.info['region']} {job.info['view']}): discs {levels}{named}; findings: {found}"


def _publish(staging: Path, out_dir: Path) -> None:
    """Move staged outputs into place, findings.json last so its presence means a complete run."""
    names = sorted((p.name for p in staging.iterdir()), key=lambda n: n == "findings.json")
    for name in names:
        target = out_dir / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(staging / name, target)


def _load_predictors(run_dirs: list[Path]) -> list:
    from spinedet.infer.predictor import Predictor  # torch: imported only when detect runs

    return [Predictor.from_run(run_dir) for run_dir in run_dirs]


def run(args) -> int:
    predictors = _load_predictors(args.model)
    metas = [p.meta for p in predictors]
    thresholds = [_threshold(args, meta) for meta in metas]
    if not 0.0 <= args.disc_threshold <= 1.0:
        raise SpinedetError(f"--disc-threshold {args.disc_threshold} is not in [0, 1]")
    if args.batch_size < 1:
        raise SpinedetError(f"--batch-size {args.batch_size} is not a positive integer")
    made = next((p for p in reversed([args.out, *args.out.parents]) if not p.exists()), None)
    out_dir = require_empty_dir(args.out, args.overwrite)
    try:
        return _detect(args, predictors, metas, thresholds, out_dir)
    except BaseException:
        if made is not None:  # bad input found on the way: leave no trace, not even the --out folder made for it
            shutil.rmtree(made, ignore_errors=True)
        raise


def _predicted_jobs(jobs: list[Job], predictors: list, thresholds: list[float], batch_size: int):
    """(job index, job, scan, findings, discs, seconds of prediction) of every job, in batches of jobs with one
    model set and batch key (`predict_scans`), each batch as soon as it fills."""
    from spinedet.infer.predictor import batch_key, pooled_batches, predict_scans

    def key(item):
        _, job, scan = item
        return tuple(job.models), batch_key([predictors[m] for m in job.models], scan, job.info["region"])

    loaded = ((n, job, job.load()) for n, job in enumerate(jobs))
    for batch in pooled_batches(loaded, key, batch_size):
        models = batch[0][1].models
        start = time.perf_counter()
        predicted = predict_scans([predictors[m] for m in models], [scan for _, _, scan in batch],
                                  [job.info["region"] for _, job, _ in batch], [thresholds[m] for m in models])
        seconds = (time.perf_counter() - start) / len(batch)
        for (n, job, scan), (findings, discs) in zip(batch, predicted):
            yield n, job, scan, findings, discs, seconds


def _detect(args, predictors: list, metas: list[dict], thresholds: list[float], out_dir: Path) -> int:
    jobs, notes = _resolve_jobs(args.input, metas, out_dir)
    if args.input.suffix.lower() == ".json" and args.threshold is None:
        notes.append("findings under each checkpoint's threshold are left out; for complete fROC/PR curves in "
                     "`spinedet evaluate`, run with --threshold 0")
    for note in notes:
        print(note)
    staging = staging_dir(out_dir, "detect")
    outputs = StudyOutputs(jobs)
    detect_seconds = 0.0
    try:
        records, overlay_map = [None] * len(jobs), {}
        for picked in _axial_last(jobs):
            predicted = _predicted_jobs([jobs[n] for n in picked], predictors, thresholds, args.batch_size)
            for k, job, scan, findings, discs, seconds in predicted:
                detect_seconds += seconds
                findings, discs = _kept(findings, discs, args.disc_threshold)
                source = None
                if job.info["view"] == "axial":
                    sagittal = [r for r in records if r is not None and r["view"] == "sagittal"
                                and r.get("patient") == job.info.get("patient")]
                    findings, discs, source = named_from_sagittal(findings, discs, sagittal)
                outputs.add(job, scan, findings, min(_operating(metas[m], thresholds[m]) for m in job.models))
                if not args.no_overlays:
                    _overlays(scan, job, findings, discs, staging, overlay_map)
                records[picked[k]] = {**F.scan_record(job.info, findings, discs),
                                      **({"levels_from": source} if source else {})}
                print(_summary(job, findings, discs, source))
        classes = [c for meta in metas for c in meta["classes"] if c != F.DISC_CLASS]
        data = F.predictions_dataset(records, classes)
        data["models"] = [
            {"run": str(path), "region": meta["region"], "view": meta["view"], "threshold": t,
             "operating_threshold": _operating(meta, t), "disc_threshold": args.disc_threshold,
             "model_version": meta.get("spinedet_version")}
            for path, meta, t in zip(args.model, metas, thresholds)
        ]
        data["spinedet_version"] = __version__
        for note in outputs.finish(data, staging, __version__):
            print(note)
        F.write_findings_csv(staging / "findings.csv", data, overlay_map)
        write_text(staging / "README.txt", _readme(args, len(records)))
        F.write_findings_json(staging / "findings.json", data)
        _publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    n_findings = sum(len(r["findings"]) for r in records)
    if outputs.one_patient:
        print(f"report and SR: {outputs.seconds:.2f} s (key images, report.html, sr.dcm for DICOM); "
              f"detection: {detect_seconds:.2f} s")
    print(f"{len(records)} scan(s), {n_findings} finding(s) -> {out_dir}/findings.json. {F.NOTICE}")
    return 0


def _readme(args, n_scans: int) -> str:
    return (
        f"{F.NOTICE}\n\n"
        f"spinedet {__version__} detect on {args.input} with model(s) {', '.join(map(str, args.model))}: {n_scans} scan(s).\n"
        "findings.json: predictions in the spinedet dataset schema (every finding and disc with score, level, "
        "box_lps in LPS mm, box_voxel in canonical voxel corners).\n"
        "findings.json 'patients': per patient every level head to foot with its findings joined across views.\n"
        "findings.csv: one row per finding. overlays/<scan id>/: overview.png and one PNG per finding.\n"
        "report.html (one patient's input): the findings per level with key images. sr.dcm (DICOM input): the same "
        "findings as a DICOM SR (TID 1500), for a PACS or a DICOM viewer. docs/outputs.md describes every file.\n"
    )
