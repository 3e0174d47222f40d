"""`spinedet train DATASET --view V --region R --config C --out RUN`: train one detector."""

from __future__ import annotations

from pathlib import Path

from spinedet.train.config import load_config


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a detector for one view and region",
                              description="Train a 3D ResNet18 + transformer detector on a dataset.json's 'train' "
                              "scans of one view and region, validating on its 'val' scans. Under torchrun it runs DDP.")
    p.add_argument("dataset", type=Path)
    p.add_argument("--view", choices=("sagittal", "axial"), required=True)
    p.add_argument("--region", choices=("lumbar", "cervical"), required=True)
    p.add_argument("--config", default="small", help="shipped config name (small, paper) or a JSON file")
    p.add_argument("--out", type=Path, required=True, help="run folder (model.safetensors, model.json, metrics.csv)")
    p.add_argument("--epochs", type=int, help="override the config's epochs")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--init", type=Path, help="start from another run's weights (transfer learning)")
    p.add_argument("--freeze", type=int, default=0, help="freeze the first N backbone stages (stem counts as one)")
    p.add_argument("--resume", action="store_true", help="continue a stopped run from its saved state")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    from spinedet.train.loop import TrainRequest, train

    meta = train(TrainRequest(dataset=args.dataset, view=args.view, region=args.region, config=load_config(args.config),
                              out=args.out, epochs=args.epochs, max_steps=args.max_steps, init=args.init,
                              freeze=args.freeze, resume=args.resume, seed=args.seed))
    v = meta.get("validation")
    summary = f"validation CPM {v['cpm']:.3f}, F1 {v['f1']:.3f} at threshold {v['threshold']:.2f}" if v else "no validation"
    print(f"{args.out}: trained {meta['training'].get('steps')} steps; {summary}")
    return 0
