"""Train -> evaluate -> infer each bundle on a tiny synthetic data set, the way the MONAI model-zoo CI does.

Every bundle is copied to a temporary folder (so nothing is written into the repository), trained for one
epoch on 64 x 64 phantoms written by ``monai-angio synth`` (CPU, ``num_workers=0``, light network widths),
then evaluated and run for inference with the checkpoint that training wrote.
"""

from __future__ import annotations

import glob
import json
import math
import os
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

from tests.bundles.conftest import IMAGE_SIZE, copy_bundle, run_workflow

RATIO = "ratio"  # metric in [0, 1]
DIST = "distance"  # metric >= 0 (mm), may be inf/NaN for an untrained net

SPECS = {
    "xca_artery_catheter_efficientunetpp": {
        "override": {},
        "metrics": {"val_generalized_dice": RATIO, "val_dice_artery": RATIO, "val_dice_catheter": RATIO},
        "labels": {0, 1, 2},
        "datalist": "datalist.json",
    },
    "xca_vessel_unet3plus": {
        "override": {"filters": [8, 16, 32, 64, 128], "cat_channels": 8},
        "metrics": {
            "val_mean_dice": RATIO,
            "val_sensitivity": RATIO,
            "val_specificity": RATIO,
            "val_hd_mm": DIST,
            "val_hd95_mm": DIST,
            "val_asd_mm": DIST,
        },
        "labels": {0, 1},
        "datalist": "datalist.json",
        # the network is fully convolutional: infer at 32 px to check the prediction comes back at 64 px
        "infer_override": {"image_size": 32},
    },
    "xca_temporal_cenet": {
        "override": {"train#trainer#epoch_length": 2},
        "metrics": {"val_mean_iou": RATIO, "val_sensitivity": RATIO, "val_specificity": RATIO, "val_mean_dice": RATIO},
        "labels": {0, 1},
        "datalist": "datalist_cine.json",
    },
    "xca_major_vessel_unet": {
        "override": {},
        "metrics": {"val_f1": RATIO, "val_precision": RATIO, "val_recall": RATIO, "val_local_f1": RATIO},
        "labels": {0, 1},
        "datalist": "datalist.json",
    },
}

COMMON = {"device": "cpu", "num_workers": 0, "image_size": IMAGE_SIZE, "amp": False}


def _check_metrics(metrics: dict, spec: dict) -> None:
    assert set(spec) <= set(metrics), f"missing metrics: {set(spec) - set(metrics)}"
    for name, kind in spec.items():
        value = float(metrics[name])
        if kind == RATIO:
            assert 0.0 <= value <= 1.0, f"{name} = {value} outside [0, 1]"
        else:
            assert math.isnan(value) or value >= 0.0, f"{name} = {value} negative"


def _tb_scalar_tags(log_dir: Path) -> set:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set = set()
    for f in glob.glob(str(log_dir / "events.out.tfevents.*")):
        acc = EventAccumulator(f)
        acc.Reload()
        tags |= set(acc.Tags().get("scalars", []))
    return tags


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SPECS))
def test_train_evaluate_infer(name: str, synth_dir: Path, tmp_path: Path) -> None:
    spec = SPECS[name]
    root = copy_bundle(name, tmp_path)
    override = dict(COMMON, dataset_dir=str(synth_dir), **spec["override"])
    datalist = json.loads((synth_dir / spec["datalist"]).read_text())

    # --- train: 1 epoch, validation at its end, best checkpoint -> runs/models/model.pt (never over models/)
    shipped = sorted((root / "models").glob("*"))
    wf = run_workflow(root, ["train"], "train", epochs=1, batch_size=2, val_batch_size=2, **override)
    trainer = wf.parser.get_parsed_content("train#trainer")
    evaluator = wf.parser.get_parsed_content("validate#evaluator")
    assert trainer.state.epoch == 1 and trainer.state.iteration >= 1
    assert math.isfinite(float(trainer.state.output[0]["loss"]))
    _check_metrics(evaluator.state.metrics, spec["metrics"])
    ckpt = root / "runs" / "models" / "model.pt"
    assert ckpt.is_file() and sorted((root / "models").glob("*")) == shipped
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    net_keys = set(wf.parser.get_parsed_content("network_def").state_dict())
    assert set(state) == net_keys
    events = glob.glob(str(root / "runs" / "events.out.tfevents.*"))
    assert events and all(os.path.getsize(e) > 0 for e in events)
    key_metric = next(iter(spec["metrics"]))
    assert {"train_loss", key_metric} <= _tb_scalar_tags(root / "runs")
    trained_value = float(evaluator.state.metrics[key_metric])

    # --- evaluate (train.json + evaluate.json) of the new checkpoint: reproduces the validation metric
    wf = run_workflow(root, ["train", "evaluate"], "eval", ckpt_dir=str(root / "runs" / "models"), **override)
    metrics = wf.evaluator.state.metrics
    _check_metrics(metrics, spec["metrics"])
    assert float(metrics[key_metric]) == pytest.approx(trained_value, abs=1e-5, nan_ok=True)
    assert (root / "runs" / "metrics.csv").is_file()
    assert key_metric in (root / "runs" / "metrics.csv").read_text()

    # --- inference on the test split with the new checkpoint as the bundle's weights: one uint8-valued NIfTI label
    # map per input, at the input size
    (root / "models").mkdir(exist_ok=True)
    shutil.copy(ckpt, root / "models" / "model.pt")
    out_dir = tmp_path / "pred"
    infer_override = dict(override, output_dir=str(out_dir), **spec.get("infer_override", {}))
    infer_override.pop("train#trainer#epoch_length", None)
    run_workflow(root, ["inference"], "infer", **infer_override)
    files = sorted(out_dir.glob("*.nii.gz"))
    assert len(files) == len(datalist["test"])
    for f in files:
        arr = np.asarray(nib.load(str(f)).dataobj)
        assert arr.shape == (IMAGE_SIZE, IMAGE_SIZE), f"{f.name}: {arr.shape}"
        assert set(np.unique(arr).tolist()) <= spec["labels"]
    if name == "xca_temporal_cenet":  # one file per (cine, frame)
        frames = sorted(int(f.name.split("_seg_")[1].split(".")[0]) for f in files)
        assert frames == sorted(e["frame"] for e in datalist["test"])


@pytest.mark.slow
def test_command_line_run(synth_dir: Path, tmp_path: Path) -> None:
    """``python -m monai.bundle run --config_file configs/train.json --dataset_dir ... --epochs 1`` from the bundle
    folder (``monai.bundle``'s own command line needs ``fire``, a dependency of monai-angio)."""
    module = "monai.bundle"
    import subprocess
    import sys

    root = copy_bundle("xca_vessel_unet3plus", tmp_path)
    cmd = [sys.executable, "-m", module, "run", "--config_file", "configs/train.json",
           "--meta_file", "configs/metadata.json", "--logging_file", "configs/logging.conf",
           "--bundle_root", ".", "--dataset_dir", str(synth_dir), "--epochs", "1", "--device", "cpu",
           "--num_workers", "0", "--image_size", str(IMAGE_SIZE), "--batch_size", "2", "--amp", "False",
           "--filters", "[8,16,32,64,128]", "--cat_channels", "8"]
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (root / "runs" / "models" / "model.pt").is_file() and not (root / "models" / "model.pt").exists()
    assert "val_mean_dice" in proc.stdout + proc.stderr
