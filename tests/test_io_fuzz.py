"""Randomly corrupted DICOM headers load or fail with an InputError naming the file: never another exception."""

import contextlib
import io
import shutil
import warnings

import numpy as np

from dicom_fixtures import image_values, write_series
from spinedet.errors import InputError
from spinedet.io.load import load_scan

TRIALS = 80


def test_corrupted_headers_never_raise_anything_but_input_error(tmp_path):
    facts = write_series(tmp_path / "base", image_values(4, 8, 10), shuffle=False)
    victim = facts["files"][1].name
    original = facts["files"][1].read_bytes()
    header_end = len(original) - 8 * 10 * 2  # the pixel data is the last 160 bytes
    rng = np.random.default_rng(2024)
    outcomes = {"loaded": 0, "input error": 0}
    for trial in range(TRIALS):
        folder = tmp_path / f"t{trial}"
        shutil.copytree(tmp_path / "base", folder)
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(132, header_end))] = int(rng.integers(0, 256))
        (folder / victim).write_bytes(bytes(data))
        try:
            with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                load_scan(folder)
            outcomes["loaded"] += 1
        except InputError as error:
            assert "\n" not in str(error) and str(tmp_path) in str(error)
            outcomes["input error"] += 1
        shutil.rmtree(folder)
    assert outcomes["input error"] > TRIALS // 4 and sum(outcomes.values()) == TRIALS
