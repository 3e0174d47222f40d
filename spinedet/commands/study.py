"""`spinedet study OUT --preset quick|paper`: the paper's whole protocol, resumable, with a report."""

from __future__ import annotations

from pathlib import Path

from spinedet.errors import SpinedetError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "study",
        help="run the paper's multicentre protocol end to end and write a report (research use only)",
        description="Train lumbar sagittal and axial models on one centre, validate internally and on three external "
        "centres (the third, if the data has it, unlike every other scanner), transfer to the cervical spine, and report F1, precision, recall, AP, CPM, fROC and PR beside "
        "the paper's numbers. Stages whose outputs exist are reused, so an interrupted study continues.",
    )
    p.add_argument("out", type=Path, help="study folder (created; reused to resume)")
    p.add_argument("--preset", choices=("tiny", "quick", "paper"), default="quick",
                   help="synthetic cohort and training budget (default quick)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", type=Path, help="your own dataset.json instead of the synthetic cohort")
    p.add_argument("--train-center", default="C1", help="centre whose train/val splits train the lumbar models")
    p.add_argument("--external-centers", default="C2,C3,C5",
                   help="three centres for external validation I, II and III (III is left out where the data lacks it)")
    p.add_argument("--cervical-center", default="C4", help="cervical centre (train/val for transfer, test held out)")
    p.add_argument("--config", help="model config name or JSON path (default: small, or paper for --preset paper)")
    p.add_argument("--epochs", type=int, help="override the config's training epochs")
    p.add_argument("--max-steps", type=int, help="stop each training after this many steps (smoke runs)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% CIs")
    p.add_argument("--workers", type=int, help="trainings run side by side, each on an equal share of the cores "
                   "(default: 2 on a CPU with two cores or more, 1 on a GPU)")
    p.set_defaults(func=run)


def run(args) -> int:
    from spinedet.study.protocol import StudyPlan, run_study

    externals = tuple(c.strip() for c in args.external_centers.split(","))
    if len(externals) != 3:
        raise SpinedetError(f"--external-centers needs three centres, got {args.external_centers!r}")
    if args.workers is not None and args.workers < 1:
        raise SpinedetError(f"--workers must be 1 or more, got {args.workers}")
    plan = StudyPlan(
        out=args.out, preset=args.preset, seed=args.seed, data=args.data, train_center=args.train_center,
        external_centers=externals, cervical_center=args.cervical_center,
        config=args.config or ("paper" if args.preset == "paper" else "small"),
        epochs=args.epochs, max_steps=args.max_steps, bootstrap=args.bootstrap,
        **({"workers": args.workers} if args.workers is not None else {}),
    )
    study = run_study(plan)
    print(f"study finished in {study['wall_s'] / 60:.1f} min: {args.out / 'report.html'}")
    for r in study["results"]:
        print(f"  {r['dataset']:>20} {r['view']:>8}  F1 {r['f1']:.3f}  P {r['precision']:.3f}  R {r['recall']:.3f}"
              f"  AP {r['ap']:.3f}  CPM {r['cpm']:.3f}  ({r['n_scans']} scans)")
    print("Research software, not a medical device.")
    return 0
