"""Fine-tune the flagship EfficientUNet++ on real angiograms (vessel masks, no catheter) + synthetic phantoms.

The recipe behind the shipped ``models/model.pt`` (see ``docs/README.md``):

- data: real ``{n}.png`` / ``{n}_gt.png`` pairs of one folder, minus the held-back ids (``--holdout``), mixed
  half and half with freshly generated phantoms (:class:`monai_angio.data.mixed.MixedAngioDataset`: the same
  field-of-view detection and normalisation as the bundle's ``inference.json``, random zoom, rotation, crop,
  gamma, noise, blur);
- loss: :class:`monai_angio.losses.PartialLabelLoss` (real "vessel" = artery, real "not vessel" = background
  *or* catheter; thin synthetic branches unknown);
- MONAI ``SupervisedTrainer`` with AdamW and a cosine schedule, 2-core CPU friendly (256 px crops), checkpoints
  every epoch into ``--out`` (never over the shipped weights), resumable with ``--resume``.

Example (the command that produced the shipped weights is in the bundle README)::

    python bundles/xca_artery_catheter_efficientunetpp/scripts/train_real.py \
        --real ../shared/real/cimat_train --n-holdout 10 --holdout-seed 0 --out runs/real --cathlab
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from monai.engines import SupervisedTrainer
from monai.handlers import CheckpointLoader, CheckpointSaver, LrScheduleHandler
from monai.utils import set_determinism

from monai_angio.data import folder_datalist, split_datalist
from monai_angio.data.mixed import MixedAngioDataset, MixedSampleConfig
from monai_angio.losses import PartialLabelLoss
from monai_angio.networks import EfficientUNetPlusPlus

BUNDLE = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--real", required=True, help="folder of {n}.png images and {n}_gt.png vessel masks")
    p.add_argument("--holdout", default=None, help="comma-separated case ids never used for training")
    p.add_argument("--n-holdout", type=int, default=10, help="without --holdout: hold back this many cases...")
    p.add_argument("--holdout-seed", type=int, default=0, help="...chosen by monai_angio.data.split_datalist")
    p.add_argument("--out", required=True, help="run folder (checkpoints, log, final model.pt)")
    p.add_argument("--init", default=str(BUNDLE / "models" / "model.pt"), help="initial weights ('' = random)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--iters", type=int, default=100, help="iterations per epoch")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--real-fraction", type=float, default=0.5)
    p.add_argument("--cathlab", action="store_true", help="use the realistic cath-lab generator preset")
    p.add_argument("--cathlab-fraction", type=float, default=1.0, help="with --cathlab: share of cath-lab phantoms")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def _cathlab_config(fraction: float = 1.0):
    from monai_angio.data.synthetic import PhantomConfig

    def make(rng, size):
        return PhantomConfig.cathlab(size=size) if rng.random() < fraction else PhantomConfig(size=size)

    return make


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    set_determinism(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cases = folder_datalist(args.real)
    if args.holdout is not None:
        held = {x.strip() for x in args.holdout.split(",") if x.strip()}
        items = [c for c in cases if str(c["case"]) not in held]
        holdout = [c for c in cases if str(c["case"]) in held]
    else:
        items, holdout = split_datalist(cases, n_holdout=args.n_holdout, seed=args.holdout_seed)
    split = {"train": [c["case"] for c in items], "holdout": [c["case"] for c in holdout]}
    (out / "split.json").write_text(json.dumps(split, indent=1))
    print(f"real training images: {len(items)} (held back: {split['holdout']})", flush=True)

    cfg = MixedSampleConfig(
        crop=args.crop,
        real_fraction=args.real_fraction,
        seed=args.seed,
        synthetic_config=_cathlab_config(args.cathlab_fraction) if args.cathlab else None,
    )
    ds = MixedAngioDataset(items, length=args.iters * args.batch, config=cfg)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=args.batch, shuffle=False, num_workers=args.workers, persistent_workers=False
    )
    net = EfficientUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=3, backbone="efficientnet-b0")
    if args.init:
        sd = torch.load(args.init, map_location="cpu", weights_only=True)
        net.load_state_dict(sd.get("model", sd) if isinstance(sd, dict) and "model" in sd else sd)
        print(f"initialised from {args.init}", flush=True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.epochs * args.iters + 1, pct_start=0.1, anneal_strategy="cos"
    )
    t0 = time.time()

    def log(engine) -> None:
        it = engine.state.iteration
        if it % 10 == 0:
            el = time.time() - t0
            print(
                f"epoch {engine.state.epoch}/{args.epochs} iter {it}/{args.epochs * args.iters} "
                f"loss {engine.state.output[0]['loss']:.4f} lr {opt.param_groups[0]['lr']:.2e} {el / 60:.1f} min",
                flush=True,
            )

    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=args.epochs,
        train_data_loader=loader,
        network=net,
        optimizer=opt,
        loss_function=PartialLabelLoss(gamma=2.0, k=0.75),
        amp=False,
    )
    from ignite.engine import Events

    trainer.add_event_handler(Events.ITERATION_COMPLETED, log)
    trainer.add_event_handler(Events.EPOCH_STARTED, lambda e: ds.set_epoch(e.state.epoch))
    LrScheduleHandler(sched, epoch_level=False, print_lr=False).attach(trainer)
    save = {"model": net, "optimizer": opt, "scheduler": sched, "trainer": trainer}
    CheckpointSaver(str(out / "ckpt"), save, save_interval=1, n_saved=2, epoch_level=True).attach(trainer)
    if args.resume:
        ckpts = sorted((out / "ckpt").glob("*.pt"), key=lambda p: p.stat().st_mtime)
        if ckpts:
            CheckpointLoader(str(ckpts[-1]), save, map_location="cpu").attach(trainer)
            print(f"resuming from {ckpts[-1]}", flush=True)
    trainer.run()
    final = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    torch.save(final, out / "model.pt")
    print(f"done in {(time.time() - t0) / 60:.1f} min -> {out / 'model.pt'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
