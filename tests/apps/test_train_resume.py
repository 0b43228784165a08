"""``monai-angio train --resume``: a stopped run continues from its last completed epoch (issue 10)."""

from __future__ import annotations

import copy
import json

import torch

from monai_angio.apps.train import latest_checkpoint, train_bundle
from tests.apps.test_train import TRAIN_CFG, main, tiny_datalist, tiny_train_bundle


def _bundle_with_scheduler(root):
    tiny_train_bundle(root)
    cfg = copy.deepcopy(TRAIN_CFG)
    cfg["lr_scheduler"] = {"_target_": "torch.optim.lr_scheduler.StepLR", "optimizer": "@optimizer", "step_size": 1,
                           "gamma": 0.5}
    cfg["train"]["handlers"].insert(0, {"_target_": "LrScheduleHandler", "lr_scheduler": "@lr_scheduler"})
    (root / "configs" / "train.json").write_text(json.dumps(cfg, indent=1))
    return root


def _state(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def test_resume_continues_after_the_last_completed_epoch(tmp_path, capsys):
    root = _bundle_with_scheduler(tmp_path / "b")
    dl = tiny_datalist(tmp_path / "data")
    out = tmp_path / "run"
    args = ["train", str(root), "--data", str(dl), "--out", str(out), "--iterations", "1", "--device", "cpu",
            "--image-size", "32"]
    # nothing to resume from yet: a clear refusal
    assert main(args + ["--epochs", "2", "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    # a run stopped after its 2nd epoch (as if killed during the 3rd)
    assert main(args + ["--epochs", "2"]) == 0
    models = out / "models"
    first = {p.name: p.stat().st_mtime_ns for p in models.glob("checkpoint_epoch=*.pt")}
    assert sorted(first) == ["checkpoint_epoch=1.pt", "checkpoint_epoch=2.pt"]
    s2 = _state(models / "checkpoint_epoch=2.pt")
    assert set(s2) == {"model", "optimizer", "lr_scheduler", "trainer"}
    assert s2["trainer"]["iteration"] == 2 and s2["trainer"]["epoch_length"] == 1  # ignite: epoch = it / length
    assert s2["lr_scheduler"]["last_epoch"] == 2
    assert latest_checkpoint(models) == models / "checkpoint_epoch=2.pt"
    # every epoch already done: refused with the count
    assert main(args + ["--epochs", "2", "--resume"]) == 2
    assert "already completed 2 epoch(s) of 2" in capsys.readouterr().err
    capsys.readouterr()
    assert main(args + ["--epochs", "3", "--resume"]) == 0
    assert "epoch 3 on" in capsys.readouterr().out
    s3 = _state(models / "checkpoint_epoch=3.pt")
    assert s3["trainer"]["iteration"] == 3 and s3["trainer"]["max_epochs"] == 3  # counted on from epoch 2
    assert s3["lr_scheduler"]["last_epoch"] == 3  # the scheduler went on, not restarted
    steps = {int(v["step"]) for v in s3["optimizer"]["state"].values()}
    assert steps == {3}  # Adam's moments continued: 2 steps before + 1 after
    # epochs 1 and 2 were not re-run: their checkpoints are untouched
    assert {p: (models / p).stat().st_mtime_ns for p in first} == first
    assert (models / "model.pt").is_file()


def test_resume_refuses_corrupt_checkpoint_and_multi_gpu(tmp_path):
    root = tiny_train_bundle(tmp_path / "b")
    dl = tiny_datalist(tmp_path / "data")
    out = tmp_path / "run"
    (out / "models").mkdir(parents=True)
    (out / "models" / "checkpoint_epoch=4.pt").write_bytes(b"not a checkpoint")
    try:
        train_bundle(root, dl, out, epochs=5, iterations=1, device="cpu", image_size=32, resume=True)
    except ValueError as e:
        assert "checkpoint_epoch=4.pt" in str(e) and "cannot resume" in str(e) and "weights_only=False" not in str(e)
    else:  # pragma: no cover
        raise AssertionError("a corrupt checkpoint was accepted")
    (root / "configs" / "multi_gpu_train.json").write_text("{}")
    try:
        train_bundle(root, dl, out, multi_gpu=2, resume=True, dry_run=True)
    except ValueError as e:
        assert "--multi-gpu" in str(e)
    else:  # pragma: no cover
        raise AssertionError("--resume with --multi-gpu was accepted")


class KillAt:
    """A train handler that stops the process-like run with an error at a given iteration (a simulated kill)."""

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def attach(self, engine) -> None:
        from ignite.engine import Events

        engine.add_event_handler(Events.ITERATION_COMPLETED(once=self.iteration), self)

    def __call__(self, engine) -> None:
        raise RuntimeError(f"killed at iteration {self.iteration}")


def test_run_killed_mid_epoch_loses_no_completed_epoch(tmp_path):
    root = tiny_train_bundle(tmp_path / "b")
    cfg = copy.deepcopy(TRAIN_CFG)
    cfg["train"]["handlers"].append({"_target_": "tests.apps.test_train_resume.KillAt", "iteration": 5})
    (root / "configs" / "train.json").write_text(json.dumps(cfg, indent=1))
    dl = tiny_datalist(tmp_path / "data")
    out = tmp_path / "run"
    kw = dict(epochs=3, iterations=2, device="cpu", image_size=32)
    try:  # 2 iterations per epoch: killed in the middle of epoch 3
        train_bundle(root, dl, out, **kw)
    except RuntimeError as e:  # MONAI wraps it: "Failed to evaluate ConfigExpression", caused by our kill
        assert "killed at iteration 5" in repr(e) + repr(e.__cause__) + repr(e.__context__)
    else:  # pragma: no cover
        raise AssertionError("the simulated kill did not happen")
    models = out / "models"
    assert latest_checkpoint(models) == models / "checkpoint_epoch=2.pt"
    mtime = (models / "checkpoint_epoch=2.pt").stat().st_mtime_ns
    (root / "configs" / "train.json").write_text(json.dumps(TRAIN_CFG, indent=1))  # the next run is not killed
    res = train_bundle(root, dl, out, resume=True, **kw)
    assert res["resumed_from"] == models / "checkpoint_epoch=2.pt"
    s3 = _state(models / "checkpoint_epoch=3.pt")
    assert s3["trainer"]["iteration"] == 6  # epochs 1-2 kept, epoch 3 run once, in full
    assert {int(v["step"]) for v in s3["optimizer"]["state"].values()} == {6}
    assert (models / "checkpoint_epoch=2.pt").stat().st_mtime_ns == mtime
