"""The schedule's length: the config's epochs, raised so that a small training set still gets `train.min_steps`."""

from spinedet.train.config import load_config
from spinedet.train.loop import config_epochs


def test_a_small_training_set_gets_the_minimum_steps_and_a_large_one_its_epochs():
    train = {"epochs": 12, "min_steps": 288}
    assert config_epochs(train, steps_per_epoch=12) == 24  # 45 cervical patients in batches of 4
    assert config_epochs(train, steps_per_epoch=13) == 23  # 299 steps: the least whole number of epochs
    assert config_epochs(train, steps_per_epoch=60) == 12  # 240 lumbar patients: 720 steps already
    assert config_epochs({"epochs": 12}, steps_per_epoch=1) == 12  # no minimum in the config


def test_the_small_config_gives_the_quick_studys_lumbar_set_1080_steps_and_its_cervical_set_486():
    train = load_config("small")["train"]
    assert config_epochs(train, steps_per_epoch=60) * 60 == 1080  # 240 C1 patients in batches of 4
    assert config_epochs(train, steps_per_epoch=27) * 27 == 486  # 105 C4 training patients (140 less validation)
    assert config_epochs(train, steps_per_epoch=12) * 12 == 288  # 45 (the tiny study's scale): train.min_steps
