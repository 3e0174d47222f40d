"""The paper's protocol: lumbar models on one centre, internal and external validation, cervical transfer."""

from __future__ import annotations

import os
import platform
import shlex
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from spinedet import __version__
from spinedet.atomic import write_json, write_text
from spinedet.data.dataset import load_dataset, read_json
from spinedet.eval.definitions import definitions_text
from spinedet.infer.cross_reference import name_axial_from_sagittal
from spinedet.study import evaluation, report, sets
from spinedet.study.paper import VIEWS
from spinedet.study.predict import predict_set
from spinedet.study.schedule import Job, default_workers, run_jobs
from spinedet.study.stages import StageLog
from spinedet.train.config import load_config
from spinedet.train.loop import TrainRequest, train


@dataclass
class StudyPlan:
    """What a study runs: data, centre roles, model config and training overrides."""

    out: Path
    preset: str = "quick"
    seed: int = 0
    data: Path | None = None
    train_center: str = "C1"
    external_centers: tuple[str, str, str] = ("C2", "C3", "C5")  # III: a scanner unlike any other, unseen
    cervical_center: str = "C4"
    config: str = "small"
    epochs: int | None = None  # overrides the config's
    max_steps: int | None = None  # stops each training early (smoke runs)
    synth_overrides: dict = field(default_factory=dict)
    bootstrap: int = 1000
    cervical_val_fraction: float = 0.25
    workers: int = field(default_factory=default_workers)  # trainings side by side (spinedet.study.schedule)


def _make_data(plan: StudyPlan, log: StageLog) -> Path:
    if plan.data is not None:
        return Path(plan.data)
    from spinedet.synth import generate

    target = plan.out / "data"
    workers = os.cpu_count() or 1  # the cohort's bytes do not depend on the number of workers
    command = f"spinedet synth {target} --preset {plan.preset} --seed {plan.seed} --workers {workers}"
    log.run("01-data", command, lambda: {"dataset": str(generate(target, preset=plan.preset, seed=plan.seed,
                                                                   workers=workers, overwrite=True,
                                                                   **plan.synth_overrides))})
    return target / "dataset.json"


def _make_sets(plan: StudyPlan, dataset_path: Path) -> dict[str, Path]:
    """The study's subsets under OUT/sets/: training sets and one evaluation set per dataset role."""
    data = load_dataset(dataset_path)
    folder = plan.out / "sets"
    c1, (c2, c3, c5), c4 = plan.train_center, plan.external_centers, plan.cervical_center
    cervical_train = [s for s in data["scans"] if s["center"] == c4 and s.get("split") in ("train", "val")]
    if any(s.get("split") == "val" for s in cervical_train):
        val_patients = {s["patient"] for s in cervical_train if s["split"] == "val"}
    else:
        val_patients = sets.validation_patients([s["patient"] for s in cervical_train], plan.cervical_val_fraction, plan.seed)
    cervical_split = lambda s: "val" if s["patient"] in val_patients else "train"  # noqa: E731
    wanted = {
        "lumbar-train": (lambda s: s["center"] == c1 and s.get("split") in ("train", "val"), None),
        "internal": (lambda s: s["center"] == c1 and s.get("split") == "val", None),
        "external1": (lambda s: s["center"] == c2, None),
        "external2": (lambda s: s["center"] == c3, None),
        "external3": (lambda s: s["center"] == c5, None),
        "cervical-train": (lambda s: s["center"] == c4 and s.get("split") in ("train", "val"), cervical_split),
        "cervical-val": (lambda s: s["center"] == c4 and s.get("split") in ("train", "val")
                         and s["patient"] in val_patients, None),
        "cervical-test": (lambda s: s["center"] == c4 and s.get("split") == "test", None),
    }
    if not any(s["center"] == c5 for s in data["scans"]):
        del wanted["external3"]  # optional: a dataset of its own may have no third external centre
    return {name: sets.write_subset(data, dataset_path, folder / f"{name}.json", keep, split_of)
            for name, (keep, split_of) in wanted.items()}


def train_stage(plan: StudyPlan, name: str, set_path: Path, view: str, region: str, init: Path | None = None
                ) -> None:
    """One training as a resumable stage, called as a function; its record names the equivalent `spinedet train`
    command."""
    log = StageLog(plan.out)
    run_dir = plan.out / "models" / name
    request = TrainRequest(dataset=set_path, view=view, region=region, config=load_config(plan.config), out=run_dir,
                           epochs=plan.epochs, max_steps=plan.max_steps, init=init, seed=plan.seed,
                           resume=(run_dir / "state").exists())  # a stopped training continues where it stopped
    args = ["train", str(set_path), "--view", view, "--region", region, "--config", plan.config, "--out", str(run_dir),
            "--seed", str(plan.seed)]
    args += ["--epochs", str(plan.epochs)] if plan.epochs is not None else []
    args += ["--max-steps", str(plan.max_steps)] if plan.max_steps is not None else []
    args += ["--init", str(init)] if init is not None else []
    args += ["--resume"] if request.resume else []
    log.run(f"train-{name}", "spinedet " + shlex.join(args), lambda: {"steps": train(request)["training"]["steps"]})


def _train_all(plan: StudyPlan, log: StageLog, set_paths: dict[str, Path]) -> None:
    """The six trainings not finished before, `plan.workers` at a time: lumbar per view on the training centre, then
    cervical by transfer from the lumbar model of its view and from scratch."""
    models = plan.out / "models"
    jobs = [Job(f"lumbar-{v}", train_stage, (plan, f"lumbar-{v}", set_paths["lumbar-train"], v, "lumbar"))
            for v in VIEWS]
    jobs += [Job(f"cervical-transfer-{v}", train_stage, (plan, f"cervical-transfer-{v}", set_paths["cervical-train"],
                                                         v, "cervical", models / f"lumbar-{v}"), after=(f"lumbar-{v}",))
             for v in VIEWS]
    jobs += [Job(f"cervical-scratch-{v}", train_stage, (plan, f"cervical-scratch-{v}", set_paths["cervical-train"], v,
                                                        "cervical")) for v in VIEWS]
    todo = [job for job in jobs if log.reuse(f"train-{job.name}") is None]
    pending = {job.name for job in todo}
    run_jobs([replace(job, after=tuple(a for a in job.after if a in pending)) for job in todo], plan.workers)


def _predict(plan: StudyPlan, log: StageLog, model: str, set_name: str, set_path: Path, view: str) -> Path:
    path = plan.out / "predictions" / f"{model}--{set_name}.json"
    command = (f"spinedet.study.predict.predict_set({plan.out / 'models' / model}, {set_path}, {view!r}): "
               "detect's prediction path, findings kept at every score above the model's floor for the curves")
    log.run(f"predict-{model}--{set_name}", command,
            lambda: write_json(path, predict_set(plan.out / "models" / model, set_path, view)))
    return path


def _named_from_sagittal(plan: StudyPlan, model: str, sagittal_model: str, set_name: str, axial: dict) -> dict:
    """`model`'s axial predictions with their levels named from `sagittal_model`'s on the same patients (as
    `spinedet detect` names them), written beside the axial finder's own as ...--levels-from-sagittal.json."""
    sagittal = read_json(plan.out / "predictions" / f"{sagittal_model}--{set_name}.json")
    named = {**axial, "scans": name_axial_from_sagittal(axial["scans"], sagittal["scans"])}
    write_json(plan.out / "predictions" / f"{model}--{set_name}--levels-from-sagittal.json", named)
    return named


def run_study(plan: StudyPlan) -> dict:
    """Run (or resume) every stage and write study.json, report.md, report.html and figures into plan.out."""
    start = time.perf_counter()
    plan.out.mkdir(parents=True, exist_ok=True)
    log = StageLog(plan.out)
    dataset_path = _make_data(plan, log)
    set_paths = _make_sets(plan, dataset_path)
    roles = {  # dataset role -> (model name pattern, evaluation set, threshold set)
        "internal": ("lumbar-{v}", "internal", "internal"),
        "external1": ("lumbar-{v}", "external1", "internal"),
        "external2": ("lumbar-{v}", "external2", "internal"),
        "external3": ("lumbar-{v}", "external3", "internal"),
        "cervical_zero_shot": ("lumbar-{v}", "cervical-test", "internal"),
        "cervical_transfer": ("cervical-transfer-{v}", "cervical-test", "cervical-val"),
        "cervical_scratch": ("cervical-scratch-{v}", "cervical-test", "cervical-val"),
    }
    _train_all(plan, log, set_paths)
    results, curves = [], {}
    for view in VIEWS:
        for role, (model_pattern, set_name, threshold_set) in roles.items():
            if set_name not in set_paths:
                continue
            model = model_pattern.format(v=view)
            truth_path = set_paths[set_name]
            truth = read_json(truth_path)
            preds_path = _predict(plan, log, model, set_name, truth_path, view)
            thr_path = _predict(plan, log, model, threshold_set, set_paths[threshold_set], view)
            predictions = read_json(preds_path)
            if view == "axial":
                alone = predictions
                predictions = _named_from_sagittal(plan, model, model_pattern.format(v="sagittal"), set_name, alone)
            result, curve = evaluation.evaluate_role(
                truth, predictions, read_json(set_paths[threshold_set]), read_json(thr_path),
                view=view, bootstrap=plan.bootstrap, seed=plan.seed)
            if view == "axial":
                result["level_accuracy_axial_alone"] = evaluation.level_accuracy(truth, alone, view=view,
                                                                                 threshold=result["threshold"])
            results.append({"dataset": role, "view": view, **result})
            curves[(role, view)] = curve
    figures = evaluation.plot_curves(curves, plan.out / "figures")
    overlays = evaluation.example_overlays(plan.out, set_paths, results)
    study = {
        "preset": plan.preset if plan.data is None else "user data",
        "seed": plan.seed,
        "wall_s": round(time.perf_counter() - start + log.reused_s, 1),  # reused stages counted one after another
        "workers": plan.workers,
        "results": results,
        "stages": log.records(),
        "versions": _versions(),
    }
    write_json(plan.out / "study.json", study)
    definitions = definitions_text()
    write_text(plan.out / "report.md", report.render_markdown(study, figures, overlays, definitions))
    write_text(plan.out / "report.html", report.render_html(study, figures, overlays, definitions, plan.out))
    return study


def _versions() -> dict:
    import monai
    import torch

    return {"spinedet": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "monai": monai.__version__, "numpy": np.__version__, "machine": f"{platform.machine()} {platform.node()}"}
