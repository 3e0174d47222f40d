"""Peak memory of `spinedet detect` on a large isotropic T2 (issue 14 item 5; target: at most 3 GiB on CPU).

The scan is a synthetic lumbar sagittal scan of the tiny cohort, resampled (linear) onto an isotropic grid of
`--shape` voxels at `--spacing-mm` centred on the scan (by default 256 sagittal slices of 320 x 320), as a 3D
isotropic T2 (SPACE, CUBE, VISTA) comes.
The model is `--model RUN` (a study's lumbar-sagittal, say) or, without it, the small config trained for one step
on the tiny cohort; its heatmap bias is raised so that every local maximum becomes a disc (the most judge crops, the
worst case for memory). `detect` runs as a child process whose own peak resident memory (wait4's ru_maxrss) is
reported, overlays included.
Usage: .venv/bin/python benchmarks/detect_memory.py [--model RUN] [--shape 256 320 320] [--spacing-mm 0.8]
Research software, not a medical device.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

TARGET_MIB = 3072.0
SPINEDET = [sys.executable, "-m", "spinedet"]


def isotropic_scan(source: Path, shape: tuple[int, int, int], spacing_mm: float, out: Path) -> Path:
    """`source` resampled onto `shape` voxels (x, y, z in ITK order) of `spacing_mm`, same direction and centre."""
    image = sitk.ReadImage(str(source), sitk.sitkFloat32)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    size = np.array(image.GetSize())
    centre = np.array(image.TransformContinuousIndexToPhysicalPoint(((size - 1) / 2).tolist()))
    extent = (np.array(shape) - 1) * spacing_mm
    origin = centre - direction @ (extent / 2)
    reference = sitk.Image([int(v) for v in shape], sitk.sitkFloat32)
    reference.SetSpacing([spacing_mm] * 3)
    reference.SetDirection(image.GetDirection())
    reference.SetOrigin(origin.tolist())
    resampled = sitk.Resample(image, reference, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    sitk.WriteImage(resampled, str(out))
    return out


def one_step_model(dataset: Path, out: Path) -> Path:
    """The small config trained for one step, with every local heatmap maximum made a disc candidate."""
    import torch
    from safetensors.torch import load_file, save_file

    subprocess.run([*SPINEDET, "train", str(dataset), "--view", "sagittal", "--region", "lumbar", "--config", "small",
                    "--out", str(out), "--max-steps", "1"], check=True, capture_output=True)
    weights = load_file(str(out / "model.safetensors"))
    key = next(k for k in weights if k.endswith("heads.heatmap.bias"))
    weights[key] = torch.full_like(weights[key], 2.0)
    save_file(weights, str(out / "model.safetensors"))
    return out


def measured_detect(scan: Path, model: Path, out: Path) -> dict:
    """Wall seconds, exit code and peak RSS (MiB) of one `spinedet detect` child process."""
    started = time.perf_counter()
    child = subprocess.Popen([*SPINEDET, "detect", str(scan), "--model", str(model), "--out", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    stderr = child.stderr.read().decode(errors="replace").strip()
    return {"exit_code": os.waitstatus_to_exitcode(status), "wall_s": round(time.perf_counter() - started, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024.0, 1), **({"stderr": stderr[-300:]} if stderr else {})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="trained run folder (default: one-step small model)")
    parser.add_argument("--shape", type=int, nargs=3, default=[256, 320, 320],
                        help="x y z voxels (ITK order; x, left-right, has the fewest: the slice axis of a sagittal 3D T2)")
    parser.add_argument("--spacing-mm", type=float, default=0.8)
    args = parser.parse_args()
    from spinedet.data.dataset import image_path, read_json
    from spinedet.synth import generate

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dataset = generate(work / "data", preset="tiny", seed=0)
        entry = next(s for s in read_json(dataset)["scans"] if (s["view"], s["region"]) == ("sagittal", "lumbar"))
        scan = isotropic_scan(image_path(dataset, entry), tuple(args.shape), args.spacing_mm, work / "iso.nii.gz")
        model = args.model or one_step_model(dataset, work / "model")
        result = measured_detect(scan, model, work / "detect")
        findings = work / "detect" / "findings.json"
        discs = (sum(len(s["discs"]) for s in json.loads(findings.read_text())["scans"]) if findings.is_file()
                 else None)
    print(json.dumps({"shape_xyz": args.shape, "spacing_mm": args.spacing_mm,
                      "voxels": int(np.prod(args.shape)), "model": str(args.model or "small, one step, bias 2.0"),
                      "discs_found": discs, **result, "target_mib": TARGET_MIB,
                      "within_target": result["exit_code"] == 0 and result["peak_rss_mib"] <= TARGET_MIB}))
    return 0 if result["exit_code"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
