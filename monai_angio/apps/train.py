"""``monai-angio train``: train a bundle on a datalist with MONAI's bundle workflow.

The bundle's ``configs/train.json`` runs through :class:`monai.bundle.ConfigWorkflow` with these
overrides (only for ids the config defines, except the first three which every bundle has):

- ``bundle_root``: the bundle folder (so its configs resolve), ``dataset_dir``: the datalist's folder,
  ``data_list_file_path``: the datalist (paths inside are relative to it);
- ``ckpt_dir`` = ``OUT/models`` and ``output_dir`` = ``OUT/logs`` (TensorBoard event files, validation
  outputs): nothing is written into the bundle folder unless ``--out`` points there and ``--into-bundle``
  is given;
- ``epochs`` (``--epochs``), ``image_size`` (``--image-size``), ``device`` (``--device``),
  ``train#trainer#epoch_length`` (``--iterations``: iterations per epoch, for quick runs), and any
  ``--override ID=VALUE`` (VALUE parsed as JSON when it can be, e.g. ``--override batch_size=2``).

``--multi-gpu N`` launches ``torchrun --nproc_per_node N -m monai.bundle run`` with
``configs/train.json`` + ``configs/multi_gpu_train.json`` and the same overrides.

Resuming (single-process runs): besides the bundle's own ``CheckpointSaver`` (the best model, ``model.pt``),
every epoch saves a resume checkpoint ``OUT/models/checkpoint_epoch=N.pt`` (model, optimizer, the
``lr_scheduler`` when the config has one, and the trainer's state: epoch and iteration; the last two are kept),
with MONAI's :class:`~monai.handlers.CheckpointSaver` attached to the config's ``train#trainer``.
``--resume`` loads the newest one with MONAI's :class:`~monai.handlers.CheckpointLoader` (``weights_only``
loading) before the first epoch, so a killed run continues at the epoch after the last completed one, up to
``--epochs``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from monai_angio.bundle import resolve_bundle
from monai_angio.errors import AngioInputError

__all__ = ["build_overrides", "torchrun_command", "latest_checkpoint", "train_bundle", "register", "run"]

PathLike = Union[str, os.PathLike]
_EPOCH_KEYS = ("epochs", "num_epochs", "max_epochs")
_SIZE_KEYS = ("image_size", "spatial_size", "roi_size")
_RESUME_RE = re.compile(r"checkpoint_epoch=(\d+)\.pt$")
#: resume checkpoints kept in OUT/models (the newest N)
RESUME_KEEP = 2


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _check_datalist(datalist: Path) -> None:
    if not datalist.is_file():
        raise AngioInputError("datalist not found", datalist)
    try:
        data = json.loads(datalist.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AngioInputError(f"not a JSON datalist ({e})", datalist) from e
    if not isinstance(data, dict) or not isinstance(data.get("training"), list) or not data["training"]:
        raise AngioInputError('datalist needs a non-empty "training" list (MONAI decathlon style)', datalist)


def build_overrides(
    bundle_root: Path,
    datalist: Path,
    out_dir: Path,
    config: Dict[str, Any],
    epochs: Optional[int] = None,
    image_size: Optional[int] = None,
    device: Optional[str] = None,
    iterations: Optional[int] = None,
    extra: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Config-id overrides for a training run (see the module docstring).

    Args:
        bundle_root: bundle folder.
        datalist: datalist JSON.
        out_dir: run folder (checkpoints in ``models/``, TensorBoard logs in ``logs/``).
        config: the raw ``train.json`` content (to see which ids exist).
        epochs: number of epochs.
        image_size: training image side.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
        iterations: iterations per epoch (``train#trainer#epoch_length``).
        extra: further id -> value overrides, applied last.

    Returns:
        id -> value, with ``#``-separated ids as MONAI expects.
    """
    ov: Dict[str, Any] = {
        "bundle_root": str(bundle_root),
        "dataset_dir": str(datalist.parent),
        "data_list_file_path": str(datalist),
        "ckpt_dir": str(out_dir / "models"),
        "output_dir": str(out_dir / "logs"),
    }
    for key in ("log_dir", "tensorboard_dir"):
        if key in config:
            ov[key] = str(out_dir / "logs")
    if epochs is not None:
        keys = [k for k in _EPOCH_KEYS if k in config] or ["epochs"]
        for k in keys:
            ov[k] = int(epochs)
    if image_size is not None:
        for k in [k for k in _SIZE_KEYS if k in config] or ["image_size"]:
            ov[k] = int(image_size)
    if device is not None:
        ov["device"] = f"$torch.device('{device}')"
    if iterations is not None:
        ov["train#trainer#epoch_length"] = int(iterations)
    ov.update(extra or {})
    return ov


def torchrun_command(
    bundle_root: Path, nproc: int, overrides: Dict[str, Any], logging_file: Optional[Path] = None
) -> List[str]:
    """The ``torchrun`` command line for multi-GPU training with ``multi_gpu_train.json``."""
    cfg = bundle_root / "configs"
    configs = [str(cfg / "train.json"), str(cfg / "multi_gpu_train.json")]
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={int(nproc)}",
        "-m", "monai.bundle", "run",
        "--config_file", json.dumps(configs),
        "--meta_file", str(cfg / "metadata.json"),
    ]  # fmt: skip
    if logging_file is not None:
        cmd += ["--logging_file", str(logging_file)]
    for k, v in overrides.items():
        cmd += [f"--{k}", v if isinstance(v, str) else json.dumps(v)]
    return cmd


def latest_checkpoint(models_dir: PathLike) -> Optional[Path]:
    """The newest resume checkpoint (``checkpoint_epoch=N.pt`` with the highest N) in ``models_dir``, or None."""
    found = []
    for f in Path(models_dir).glob("*checkpoint_epoch=*.pt"):
        m = _RESUME_RE.search(f.name)
        if m and f.is_file():
            found.append((int(m.group(1)), f))
    return max(found)[1] if found else None


def _checkpoint_epoch(path: Path) -> int:
    m = _RESUME_RE.search(path.name)
    return int(m.group(1)) if m else 0


def _attach_resume(workflow: Any, config: Dict[str, Any], models_dir: Path, resume_from: Optional[Path]) -> None:
    """Attach the per-epoch resume ``CheckpointSaver`` (and, to resume, a ``CheckpointLoader``) to the trainer.

    Raises:
        ValueError: the checkpoint already holds ``max_epochs`` or more epochs (nothing left to train).
    """
    from monai.handlers import CheckpointLoader, CheckpointSaver

    trainer = workflow.parser.get_parsed_content("train#trainer")
    objects: Dict[str, Any] = {"model": trainer.network, "optimizer": trainer.optimizer}
    if "lr_scheduler" in config:
        objects["lr_scheduler"] = workflow.parser.get_parsed_content("lr_scheduler")
    objects["trainer"] = trainer
    if resume_from is not None:
        import torch

        try:  # a clear message for a corrupt file (the loader itself would fail inside the run)
            torch.load(str(resume_from), map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable checkpoint
            raise ValueError(f"{resume_from}: cannot resume from this checkpoint ({type(e).__name__}: {e})") from e
        done, max_epochs = _checkpoint_epoch(resume_from), int(trainer.state.max_epochs)
        if done >= max_epochs:
            raise ValueError(
                f"{resume_from}: the run already completed {done} epoch(s) of {max_epochs}; "
                f"give --epochs greater than {done} to train further"
            )
        CheckpointLoader(load_path=str(resume_from), load_dict=objects, map_location="cpu").attach(trainer)
    CheckpointSaver(
        save_dir=str(models_dir), save_dict=objects, save_interval=1, epoch_level=True, n_saved=RESUME_KEEP
    ).attach(trainer)


def train_bundle(
    bundle: PathLike,
    datalist: PathLike,
    out_dir: Optional[PathLike] = None,
    epochs: Optional[int] = None,
    device: Optional[str] = None,
    image_size: Optional[int] = None,
    iterations: Optional[int] = None,
    overrides: Optional[Dict[str, Any]] = None,
    multi_gpu: int = 0,
    into_bundle: bool = False,
    dry_run: bool = False,
    resume: bool = False,
) -> Dict[str, Any]:
    """Train a bundle on a datalist; returns where things were written.

    Args:
        bundle: bundle name or folder.
        datalist: MONAI decathlon-style datalist JSON (e.g. from ``monai-angio synth``).
        out_dir: run folder (default ``runs/<bundle name>``).
        epochs: epochs (default: the bundle's).
        device: torch device (default: the bundle's, CUDA when available).
        image_size: training image side (default: the bundle's).
        iterations: iterations per epoch, for short runs.
        overrides: further config-id overrides.
        multi_gpu: if > 1, launch ``torchrun`` with that many processes and ``multi_gpu_train.json``.
        into_bundle: allow ``out_dir`` inside the bundle folder.
        dry_run: only build and return the overrides (and command); train nothing.
        resume: continue from the newest ``OUT/models/checkpoint_epoch=N.pt`` (single-process runs only).

    Returns:
        dict with ``out_dir``, ``checkpoint`` (``OUT/models/model.pt``), ``log_dir``, ``overrides``,
        ``command`` (multi-GPU only), ``resumed_from`` (the checkpoint, or None), ``seconds`` and ``returncode``.

    Raises:
        FileNotFoundError: no bundle / no ``train.json`` / nothing to resume from.
        AngioInputError: the datalist is missing or malformed.
        ValueError: ``out_dir`` inside the bundle without ``into_bundle``; ``resume`` with ``multi_gpu``, or with
            every epoch already done.
    """
    root = resolve_bundle(bundle)
    train_json = root / "configs" / "train.json"
    if not train_json.is_file():
        raise FileNotFoundError(f"{root}: bundle has no configs/train.json")
    datalist = Path(datalist).resolve()
    _check_datalist(datalist)
    out = Path(out_dir if out_dir is not None else Path("runs") / root.name).resolve()
    if (out == root or root in out.parents) and not into_bundle:
        raise ValueError(f"--out {out} is inside the bundle folder {root}; pass --into-bundle to allow it")
    config = json.loads(train_json.read_text(encoding="utf-8"))
    ov = build_overrides(root, datalist, out, config, epochs, image_size, device, iterations, overrides)
    logging_conf = root / "configs" / "logging.conf"
    logging_file = logging_conf if logging_conf.is_file() else None
    result: Dict[str, Any] = {
        "out_dir": out,
        "checkpoint": out / "models" / "model.pt",
        "log_dir": out / "logs",
        "overrides": ov,
        "returncode": 0,
        "seconds": 0.0,
        "resumed_from": None,
    }
    if resume:
        if multi_gpu and multi_gpu > 1:
            raise ValueError("--resume works for single-process runs; it cannot be combined with --multi-gpu")
        result["resumed_from"] = latest_checkpoint(out / "models")
        if result["resumed_from"] is None:
            raise FileNotFoundError(f"--resume: no checkpoint_epoch=N.pt in {out / 'models'}; nothing to resume from")
    if multi_gpu and multi_gpu > 1:
        if not (root / "configs" / "multi_gpu_train.json").is_file():
            raise FileNotFoundError(f"{root}: bundle has no configs/multi_gpu_train.json")
        if device is not None and str(device).startswith("cpu"):
            ov["backend"] = "gloo"
        result["command"] = torchrun_command(root, multi_gpu, ov, logging_file)
    if dry_run:
        return result
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if "command" in result:
        result["returncode"] = subprocess.call(result["command"])
    else:
        from monai.bundle import ConfigWorkflow

        workflow = ConfigWorkflow(
            config_file=str(train_json),
            meta_file=str(root / "configs" / "metadata.json"),
            logging_file=str(logging_file) if logging_file else None,
            workflow_type="train",
            **ov,
        )
        workflow.initialize()
        _attach_resume(workflow, config, out / "models", result["resumed_from"])
        workflow.run()
        workflow.finalize()
    result["seconds"] = time.perf_counter() - t0
    return result


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` sub-command."""
    p = subparsers.add_parser(
        "train",
        help="train a bundle on a datalist (MONAI bundle workflow)",
        description=(
            "Train a monai-angio bundle (configs/train.json) on a MONAI datalist, writing checkpoints to OUT/models "
            "and TensorBoard logs to OUT/logs."
        ),
    )
    p.add_argument("bundle", metavar="BUNDLE", help="bundle name under bundles/ or a bundle folder")
    p.add_argument("--data", required=True, metavar="DATALIST", help="datalist JSON (e.g. from monai-angio synth)")
    p.add_argument("--out", default=None, help="run folder (default runs/<bundle>)")
    p.add_argument("--epochs", type=int, default=None, help="number of epochs (default: the bundle's)")
    p.add_argument("--iterations", type=int, default=None, help="iterations per epoch (short test runs)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when available)")
    p.add_argument("--image-size", type=int, default=None, help="training image side in pixels")
    p.add_argument("--multi-gpu", type=int, default=0, metavar="N", help="train on N GPUs with torchrun")
    p.add_argument(
        "--override", action="append", default=[], metavar="ID=VALUE",
        help="extra config override, e.g. batch_size=2 or 'train#dataloader#num_workers=0' (repeatable)",
    )  # fmt: skip
    p.add_argument("--into-bundle", action="store_true", help="allow --out inside the bundle folder")
    p.add_argument("--dry-run", action="store_true", help="print the overrides (and torchrun command) and exit")
    p.add_argument(
        "--resume", action="store_true",
        help="continue from the newest OUT/models/checkpoint_epoch=N.pt (model, optimizer, scheduler, epoch) up to "
        "--epochs",
    )  # fmt: skip
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``train``; 0 on success, 1 if training failed, 2 on bad arguments."""
    extra: Dict[str, Any] = {}
    for item in args.override:
        if "=" not in item:
            print(f"error: --override needs ID=VALUE, got {item!r}", file=sys.stderr)
            return 2
        k, v = item.split("=", 1)
        extra[k.strip()] = _parse_value(v.strip())
    try:
        res = train_bundle(
            args.bundle, args.data, args.out, epochs=args.epochs, device=args.device, image_size=args.image_size,
            iterations=args.iterations, overrides=extra, multi_gpu=args.multi_gpu, into_bundle=args.into_bundle,
            dry_run=args.dry_run, resume=getattr(args, "resume", False),
        )  # fmt: skip
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps({k: str(v) for k, v in res["overrides"].items()}, indent=2))
        if "command" in res:
            print(shlex.join(res["command"]))
        return 0
    if res["returncode"]:
        print(f"error: training exited with status {res['returncode']}", file=sys.stderr)
        return 1
    name = Path(resolve_bundle(args.bundle)).name
    if res.get("resumed_from"):
        print(f"resumed    : from {res['resumed_from']} (epoch {_checkpoint_epoch(res['resumed_from']) + 1} on)")
    print(f"training finished in {res['seconds']:.1f} s")
    ckpt = res["checkpoint"]
    print(f"checkpoint : {ckpt}" + ("" if ckpt.is_file() else " (not written: no validation improvement yet)"))
    print(f"TensorBoard: tensorboard --logdir {res['log_dir']}")
    print(f"use it     : monai-angio segment IMAGES --bundle {name} --weights {ckpt} --out OUT")
    return 0
