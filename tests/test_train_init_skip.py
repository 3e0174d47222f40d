"""`--init` copies a run's tensors by name and shape, except the parts `train.init_skip` names, which keep their
fresh initialisation."""

import torch

from model_configs import micro_config
from spinedet.model.build import build_model
from spinedet.model.run import save_run
from spinedet.train.loop import _init_from

CLASSES = ["herniation", "bulge", "degenerated_disc", "stenosis", "disc"]


def test_init_copies_all_but_the_skipped_prefixes(tmp_path):
    config = micro_config()
    torch.manual_seed(0)
    source = build_model(config, CLASSES, "lumbar", "sagittal")
    save_run(tmp_path / "source", source, {"config": config, "classes": CLASSES, "region": "lumbar",
                                           "view": "sagittal", "threshold": 0.5, "preprocessing": {}})
    torch.manual_seed(1)
    target = build_model(config, CLASSES, "lumbar", "sagittal")
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    copied = _init_from(target, tmp_path / "source", ("finder.encoder",))
    own, theirs = target.state_dict(), source.state_dict()
    assert copied == sum(1 for k in own if not k.startswith("finder.encoder"))
    for name, value in own.items():
        expected = fresh[name] if name.startswith("finder.encoder") else theirs[name]
        assert torch.equal(value, expected), name
    assert any(name.startswith("finder.encoder") and value.is_floating_point() and not torch.equal(value, theirs[name])
               for name, value in own.items())  # the skipped part truly differs from the source
