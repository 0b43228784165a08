"""The real-angiogram training recipe shared by the bundles' ``scripts/train_real.py``.

Every bundle that learns from the real vessel masks in a folder of ``{n}.png`` / ``{n}_gt.png`` pairs uses the
same steps; only the network and the loss differ:

- the real cases minus a held-back set (``--holdout`` ids, or ``--n-holdout`` chosen by
  :func:`monai_angio.data.split_datalist`), written to ``OUT/split.json`` so that every reported number can say
  which images the model never saw;
- samples from :class:`monai_angio.data.mixed.MixedAngioDataset`: real crops mixed with freshly generated
  phantoms (optionally the cath-lab generator), preprocessed as the bundles' ``inference.json`` does (field of
  view + FOV normalisation), with zoom, rotation, gamma, noise and blur;
- MONAI's ``SupervisedTrainer`` on the CPU (AdamW, one-cycle cosine schedule), a progress line every
  ``log_every`` iterations, checkpoints every epoch in ``OUT/ckpt`` (resumable with ``resume=True``) and the final
  CPU state dict in ``OUT/model.pt`` -- never over a bundle's shipped weights.

The bundle scripts are thin: they build the network and the loss and call :func:`run_recipe` with the parsed
:func:`recipe_parser` arguments.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

__all__ = [
    "recipe_parser",
    "split_real_cases",
    "cathlab_config",
    "load_initial_weights",
    "compact_state_dict",
    "average_state_dicts",
    "CPUAutocast",
    "run_recipe",
]


def recipe_parser(
    description: str, default_init: str = "", real_required: bool = True, **defaults
) -> argparse.ArgumentParser:
    """The recipe's command-line options (``defaults`` override the per-option defaults by ``dest`` name).

    Args:
        description: the script's description.
        default_init: default ``--init`` weights.
        real_required: whether ``--real`` must be given (a synthetic-only recipe sets False).
        defaults: per-option defaults by ``dest`` name.
    """
    from monai_angio.transforms.fov import FOV_METHODS

    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--real", required=real_required, default="", help="folder of {n}.png images and {n}_gt.png vessel masks"
    )
    p.add_argument("--holdout", default=None, help="comma-separated case ids never used for training")
    p.add_argument("--n-holdout", type=int, default=10, help="without --holdout: hold back this many cases...")
    p.add_argument("--holdout-seed", type=int, default=0, help="...chosen by monai_angio.data.split_datalist")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log, final model.pt)")
    p.add_argument("--init", default=default_init, help="initial weights ('' = random)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--iters", type=int, default=100, help="iterations per epoch")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--real-fraction", type=float, default=0.5)
    p.add_argument("--flip", type=float, default=0.0, help="probability of a left-right and of an up-down flip")
    p.add_argument("--cathlab", action="store_true", help="use the realistic cath-lab generator preset")
    p.add_argument("--cathlab-fraction", type=float, default=1.0, help="with --cathlab: share of cath-lab phantoms")
    p.add_argument(
        "--fov-method",
        choices=FOV_METHODS,
        default="robust",
        help="field-of-view detection for the real images (the bundles' inference runs 'robust'; the flagship's "
        "stages 1-16 were trained with 'basic')",
    )
    p.add_argument(
        "--phantom-edge-ignore",
        action="store_true",
        help="leave the inner boundary ring of wide phantom arteries unlabelled (real masks set the boundary)",
    )
    p.add_argument(
        "--acquisition-aug",
        action="store_true",
        help="also draw random acquisition shifts for every sample: edge enhancement, noise up to 0.06, JPEG, "
        "exposure ramp (RandAcquisitionShiftd)",
    )
    p.add_argument(
        "--scale-range",
        type=_zoom_range,
        default=(0.7, 1.5),
        metavar="LO,HI",
        help="log-uniform zoom range of every sample (default 0.7,1.5; wider: vessel widths the real images lack)",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--bf16",
        action="store_true",
        help="CPU bfloat16 autocast + channels-last (about 2.7x faster on CPUs with AMX / AVX-512 BF16)",
    )
    p.add_argument(
        "--half-weights",
        action="store_true",
        help="store large weight tensors of the final model.pt as float16 (half the file; loads into float32)",
    )
    p.set_defaults(**defaults)
    return p


def _zoom_range(text: str) -> Tuple[float, float]:
    """``"LO,HI"`` -> ``(LO, HI)`` with ``0 < LO <= HI`` (an ``argparse`` type)."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI (two numbers), got {text!r}") from None
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError(f"need 0 < LO <= HI, got {text!r}")
    return lo, hi


def split_real_cases(
    folder: str, holdout: Optional[str] = None, n_holdout: int = 10, holdout_seed: int = 0
) -> Tuple[List[Dict], List[Dict]]:
    """(training, held-back) real cases of ``folder``: explicit ``holdout`` ids, else a seeded split."""
    from monai_angio.data import folder_datalist, split_datalist

    cases = folder_datalist(folder)
    if holdout is not None:
        held = {x.strip() for x in holdout.split(",") if x.strip()}
        return [c for c in cases if str(c["case"]) not in held], [c for c in cases if str(c["case"]) in held]
    return split_datalist(cases, n_holdout=n_holdout, seed=holdout_seed)


def cathlab_config(fraction: float = 1.0) -> Callable:
    """``(rng, size) -> PhantomConfig``: the cath-lab preset with probability ``fraction``, else the plain one."""
    from monai_angio.data.synthetic import PhantomConfig

    def make(rng, size):
        return PhantomConfig.cathlab(size=size) if rng.random() < fraction else PhantomConfig(size=size)

    return make


def load_initial_weights(network: torch.nn.Module, path: str) -> None:
    """Load a state dict (plain, or a checkpoint dict with ``"model"``) onto ``network`` (CPU, weights only), read as
    every bundle reads its weights (:func:`~monai_angio.bundle.runner.load_state_dict`)."""
    from monai_angio.bundle.runner import load_state_dict

    network.load_state_dict(load_state_dict(path))


def compact_state_dict(state: Dict[str, torch.Tensor], min_numel: int = 4096) -> Dict[str, torch.Tensor]:
    """A CPU copy of ``state`` with every floating tensor of at least ``min_numel`` elements stored as float16.

    Convolution and linear weights are where the bytes are; they keep about 3 significant digits, which moves logits
    by ~1e-3 (measured on the major-vessel U-Net: max 2.7e-3 on logits of +-12, argmax unchanged). Normalisation
    statistics, biases and other small tensors stay float32 (a BatchNorm variance can be below float16's range).
    ``load_state_dict`` casts back to the network's float32 parameters.
    """
    out = {}
    for k, v in state.items():
        v = v.detach().cpu()
        out[k] = v.half() if v.is_floating_point() and v.numel() >= min_numel else v.clone()
    return out


def average_state_dicts(states: Sequence[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
    """The uniform average of several state dicts of one network (a "model soup"), as CPU float32 tensors.

    Meant for fine-tunes that start from the *same* weights (different seeds, data mixes or loss settings): they stay
    in one basin of the loss, so their average is a model too, usually better than each (Wortsman et al., 2022,
    "Model soups"). Floating tensors (weights, biases, BatchNorm running statistics) are averaged in float32 and
    returned in the dtype of the first state; integer tensors (e.g. ``num_batches_tracked``) are not averaged, the
    element-wise largest is kept.

    Raises:
        ValueError: no state given, or the states do not hold the same keys and shapes.
    """
    if not states:
        raise ValueError("average_state_dicts needs at least one state dict")
    first = states[0]
    for i, st in enumerate(states[1:], 1):
        if set(st) != set(first):
            diff = sorted(set(st) ^ set(first))[:3]
            raise ValueError(f"state {i} holds other keys than state 0 (e.g. {diff}): not the same network")
        bad = [k for k in first if st[k].shape != first[k].shape]
        if bad:
            raise ValueError(f"state {i}: shape of {bad[0]} is {tuple(st[bad[0]].shape)}, state 0 has "
                             f"{tuple(first[bad[0]].shape)}")
    out: Dict[str, torch.Tensor] = {}
    for k, v in first.items():
        vals = [st[k].detach().cpu() for st in states]
        if v.is_floating_point():
            out[k] = torch.stack([x.float() for x in vals]).mean(0).to(v.dtype)
        else:
            out[k] = torch.stack(vals).max(0).values
    return out


class CPUAutocast(torch.nn.Module):
    """Run ``network`` under CPU bfloat16 autocast, returning float32 outputs (weights stay float32).

    MONAI's ``SupervisedTrainer(amp=True)`` autocasts on CUDA only; this wrapper is the CPU counterpart. On a
    2-core Xeon with AMX one EfficientUNet++ B0 training step (batch 8, 256 px) takes 1.4 s instead of 3.8 s
    (bfloat16 + channels-last vs float32). Losses see float32 logits, the optimiser updates float32 weights.

    Args:
        network: the module to wrap (moved to channels-last memory format).
    """

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor):  # noqa: D102
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = self.network(x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x)
        if isinstance(y, (list, tuple)):
            return type(y)(v.float() for v in y)
        return y.float()


def run_recipe(
    args: argparse.Namespace,
    network: torch.nn.Module,
    loss_function: torch.nn.Module,
    phantom_config: Optional[Callable] = None,
    synthetic_sizes: Optional[Sequence[int]] = None,
    log_every: int = 10,
    dataset: Optional[torch.utils.data.Dataset] = None,
) -> Path:
    """Train ``network`` with ``loss_function`` on coded targets (module docstring); returns ``OUT/model.pt``.

    Args:
        args: parsed :func:`recipe_parser` options.
        network: the bundle's network (training mode output must suit ``loss_function``).
        loss_function: called as ``loss(output, coded_target)``, e.g. :class:`~monai_angio.losses.PartialLabelLoss`
            (3 classes) or :class:`~monai_angio.losses.CodedBinaryLoss` (binary vessel).
        phantom_config: ``(rng, size) -> PhantomConfig`` for the synthetic samples (default: ``--cathlab``
            decides between :func:`cathlab_config` and the plain generator).
        synthetic_sizes: phantom image sizes (default: the dataset's).
        log_every: iterations between progress lines.
        dataset: the training samples instead of the real + phantom mix (e.g. the temporal bundle's
            :class:`~monai_angio.data.cine_windows.CineWindowDataset`); ``len(dataset)`` must be ``iters * batch``
            and a ``set_epoch(epoch)`` method, if any, is called at every epoch start.
    """
    from ignite.engine import Events
    from monai.engines import SupervisedTrainer
    from monai.handlers import CheckpointLoader, CheckpointSaver, LrScheduleHandler
    from monai.utils import set_determinism

    from monai_angio.data.mixed import MixedAngioDataset, MixedSampleConfig

    torch.set_num_threads(args.threads)
    set_determinism(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    items, holdout = ([], [])
    if args.real:
        items, holdout = split_real_cases(args.real, args.holdout, args.n_holdout, args.holdout_seed)
    split = {"train": [c["case"] for c in items], "holdout": [c["case"] for c in holdout]}
    (out / "split.json").write_text(json.dumps(split, indent=1))
    print(f"real training images: {len(items)} (held back: {split['holdout']})", flush=True)

    if dataset is None:
        if phantom_config is None and args.cathlab:
            phantom_config = cathlab_config(args.cathlab_fraction)
        kw = {} if synthetic_sizes is None else {"synthetic_sizes": tuple(synthetic_sizes)}
        if getattr(args, "scale_range", None) is not None:  # otherwise MixedSampleConfig's own default
            kw["scale_range"] = tuple(args.scale_range)
        cfg = MixedSampleConfig(
            crop=args.crop,
            real_fraction=args.real_fraction,
            seed=args.seed,
            synthetic_config=phantom_config,
            flip_prob=getattr(args, "flip", 0.0),
            phantom_edge_ignore=bool(getattr(args, "phantom_edge_ignore", False)),
            fov_method=getattr(args, "fov_method", "robust"),
            acquisition_aug=bool(getattr(args, "acquisition_aug", False)),
            branch_class=bool(getattr(args, "branch_class", False)),
            device_code=getattr(args, "device_weight", None) is not None,
            **kw,
        )
        dataset = MixedAngioDataset(items, length=args.iters * args.batch, config=cfg)
    ds = dataset
    loader = torch.utils.data.DataLoader(
        ds, batch_size=args.batch, shuffle=False, num_workers=args.workers, persistent_workers=False
    )
    if args.init:
        load_initial_weights(network, args.init)
        print(f"initialised from {args.init}", flush=True)
    opt = torch.optim.AdamW(network.parameters(), lr=args.lr, weight_decay=1e-4)
    total = args.epochs * args.iters
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=total + 1, pct_start=0.1, anneal_strategy="cos"
    )
    t0 = time.time()

    def log(engine) -> None:
        it = engine.state.iteration
        if it % log_every == 0 or it == total:
            el = time.time() - t0
            print(
                f"epoch {engine.state.epoch}/{args.epochs} iter {it}/{total} "
                f"loss {engine.state.output[0]['loss']:.4f} lr {opt.param_groups[0]['lr']:.2e} {el / 60:.1f} min",
                flush=True,
            )

    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=args.epochs,
        train_data_loader=loader,
        network=CPUAutocast(network) if getattr(args, "bf16", False) else network,
        optimizer=opt,
        loss_function=loss_function,
        amp=False,
    )
    trainer.add_event_handler(Events.ITERATION_COMPLETED, log)
    if hasattr(ds, "set_epoch"):
        trainer.add_event_handler(Events.EPOCH_STARTED, lambda e: ds.set_epoch(e.state.epoch))
    LrScheduleHandler(sched, epoch_level=False, print_lr=False).attach(trainer)
    save = {"model": network, "optimizer": opt, "scheduler": sched, "trainer": trainer}
    CheckpointSaver(str(out / "ckpt"), save, save_interval=1, n_saved=2, epoch_level=True).attach(trainer)
    if args.resume:
        ckpts = sorted((out / "ckpt").glob("*.pt"), key=lambda p: p.stat().st_mtime)
        if ckpts:
            CheckpointLoader(str(ckpts[-1]), save, map_location="cpu").attach(trainer)
            print(f"resuming from {ckpts[-1]}", flush=True)
    trainer.run()
    network.to(memory_format=torch.contiguous_format)
    final = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    if getattr(args, "half_weights", False):
        final = compact_state_dict(final)
    torch.save(final, out / "model.pt")
    print(f"done in {(time.time() - t0) / 60:.1f} min -> {out / 'model.pt'}", flush=True)
    return out / "model.pt"
