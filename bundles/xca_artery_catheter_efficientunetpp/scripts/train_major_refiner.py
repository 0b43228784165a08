"""Train a major-artery refiner (experimental, none ships) on phantoms run through this bundle.

The opt-in major-artery map (``--set major_map=true``) keeps the arteries at least 2 mm wide at their origin. Its
geometric step decides branch by branch; the refiner (:class:`~monai_angio.networks.MajorArteryRefiner`) gives it a
learned second opinion (bundle README, "Major-artery map"). This script makes the refiner's training data the way
the bundle will feed it: every phantom goes through the bundle's own ``inference.json`` with the map on and no
refiner, and the inputs of :meth:`~monai_angio.transforms.MajorArteryMap.refine` (the preprocessed image, the artery
and catheter probabilities, the geometric map, the scale) are recorded with the phantom's major-artery class as the
target.
Real images play no part: their expert masks draw every vessel, so they say nothing about which one is major.

Recipe: BCE + Dice on the refiner grid (the longer side 256 px), AdamW with a one-cycle schedule, random 90-degree
turns and flips, the scale channel jittered by +-5 % (the catheter's French size is a guess). Progress every 50
steps, a resumable checkpoint every 300 steps in ``--out``, the development phantoms scored at the end (geometric
map against refined map, Dice against the major-artery class). No refiner ships: the run below (28.6 min on a
2-core CPU) failed the rules it was judged by (bundle README, "A learned refiner, tried")::

    python bundles/xca_artery_catheter_efficientunetpp/scripts/train_major_refiner.py --out runs/refiner \\
        --plain-seeds 770000-770119,775000-775119 --cathlab-seeds 771000-771119,776000-776119 \\
        --dev-seeds 910000-910019 --steps 1200

The weights are written as CPU float32 tensors to ``--out``/major_refiner.pt (never into the bundle's ``models``);
use them with ``monai-angio segment ... --set major_map=true --set 'major_refiner="PATH"'``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from monai.losses import DiceLoss

from monai_angio.bundle import load_bundle
from monai_angio.data.synthetic import PhantomConfig, generate_phantom
from monai_angio.metrics import dice
from monai_angio.networks import MajorArteryRefiner
from monai_angio.transforms import MajorArteryMapd
from monai_angio.transforms.major_arteries import major_refiner_inputs, refined_region
from monai_angio.utils import atomic_path

BUNDLE = Path(__file__).resolve().parents[1]


def parse_seeds(text: str) -> List[int]:
    """``"A-B,C-D,E"`` -> the seeds of those inclusive ranges."""
    seeds: List[int] = []
    for part in filter(None, (t.strip() for t in text.split(","))):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


def record_examples(seeds: Sequence[int], cathlab: bool, size: int, log=print) -> List[Dict[str, np.ndarray]]:
    """Run each phantom through the bundle (major map on, no refiner) and keep what the refiner would be fed.

    Returns one dict per phantom: ``x`` the refiner input ``(4, h, w)`` float16, ``y`` the major-artery share of
    each refiner pixel ``(h, w)`` float16, and at full resolution ``region`` (the lumen region), ``geometric``
    (the geometric map) and ``truth`` (the phantom's major arteries).
    """
    runner = load_bundle(str(BUNDLE), major_map=True, major_refiner=None)
    step = next(s for s in runner.post_steps if isinstance(s, MajorArteryMapd))
    seen: Dict[str, Tuple] = {}
    refine = step.op.refine

    def recording_refine(region, geometric, image, artery_prob, catheter_prob, mm_per_px):
        seen["args"] = (region, geometric, image, artery_prob, catheter_prob, mm_per_px)
        return refine(region, geometric, image, artery_prob, catheter_prob, mm_per_px)

    step.op.refine = recording_refine
    out = []
    for i, seed in enumerate(seeds):
        cfg = PhantomConfig.cathlab(size=size) if cathlab else PhantomConfig(size=size)
        ph = generate_phantom(seed, cfg)
        seen.clear()
        runner.predict(ph.image[None])
        if "args" not in seen:  # no artery region or no scale: the map is empty, nothing to learn from
            log(f"  phantom {seed}: no major map (no artery region or no scale), skipped")
            continue
        region, geometric, image, artery_prob, catheter_prob, mm = seen["args"]
        x = major_refiner_inputs(image, artery_prob, catheter_prob, geometric, mm)
        truth = np.asarray(ph.label) == 1
        y = F.interpolate(torch.as_tensor(truth, dtype=torch.float32)[None, None], size=x.shape[-2:], mode="area")
        out.append(
            {"x": x[0].numpy().astype(np.float16), "y": y[0, 0].numpy().astype(np.float16), "region": region,
             "geometric": np.asarray(geometric, bool), "truth": truth}
        )  # fmt: skip
        if (i + 1) % 20 == 0 or i + 1 == len(seeds):
            log(f"  {'cath-lab' if cathlab else 'plain'} phantoms: {i + 1}/{len(seeds)}")
    return out


def score(net: torch.nn.Module, examples: Sequence[Dict[str, np.ndarray]]) -> Tuple[float, float]:
    """Mean Dice against the major-artery class: (geometric map, refined map)."""
    net.eval()
    geo = [float(dice(ex["geometric"], ex["truth"])) for ex in examples]
    ref = [
        float(dice(refined_region(net, torch.as_tensor(ex["x"].astype(np.float32))[None], ex["region"]), ex["truth"]))
        for ex in examples
    ]
    net.train()
    return float(np.mean(geo)), float(np.mean(ref))


def train(
    examples: Sequence[Dict[str, np.ndarray]], out: Path, steps: int, batch: int, lr: float, seed: int = 0,
    resume: bool = False, log=print,
) -> MajorArteryRefiner:
    """The training loop (module docstring); checkpoints ``out/checkpoint.pt`` every 300 steps."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    X = np.stack([ex["x"] for ex in examples])
    Y = np.stack([ex["y"] for ex in examples])
    net = MajorArteryRefiner()
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    dice_loss = DiceLoss(sigmoid=True, batch=True)
    ckpt, start = out / "checkpoint.pt", 1
    if resume and ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        rng.bit_generator.state = state["rng"]
        start = int(state["step"]) + 1
        log(f"resumed at step {start}")
    t0 = time.perf_counter()
    net.train()
    for it in range(start, steps + 1):
        idx = rng.choice(len(X), batch, replace=False)
        x = torch.as_tensor(X[idx].astype(np.float32))
        y = torch.as_tensor(Y[idx].astype(np.float32))[:, None]
        k = int(rng.integers(4))
        x, y = torch.rot90(x, k, (2, 3)), torch.rot90(y, k, (2, 3))
        if rng.random() < 0.5:
            x, y = x.flip(3), y.flip(3)
        x[:, 4] *= float(rng.uniform(0.95, 1.05))  # the scale channel
        logits = net(x)
        loss = F.binary_cross_entropy_with_logits(logits, y) + dice_loss(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 50 == 0 or it == steps:
            log(f"step {it}/{steps} loss {loss.item():.4f} ({time.perf_counter() - t0:.0f} s)")
        if it % 300 == 0 or it == steps:
            with atomic_path(ckpt) as tmp:
                torch.save(
                    {"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "rng": rng.bit_generator.state, "step": it}, tmp,
                )  # fmt: skip
    return net.eval()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (major_refiner.pt, checkpoint.pt)")
    p.add_argument("--plain-seeds", default="770000-770119,775000-775119", help="plain phantom seeds, e.g. A-B,C-D")
    p.add_argument("--cathlab-seeds", default="771000-771119,776000-776119", help="cath-lab phantom seeds")
    p.add_argument("--dev-seeds", default="910000-910019", help="phantoms scored at the end (plain and cath-lab)")
    p.add_argument("--size", type=int, default=512, help="phantom size (px)")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=6)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.resolve() == (BUNDLE / "models").resolve():
        print(f"{out}: the shipped models folder; train elsewhere and copy major_refiner.pt there", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, flush=True)

    t0 = time.perf_counter()
    log("recording the refiner's inputs from the bundle ...")
    examples = record_examples(parse_seeds(args.plain_seeds), False, args.size, log)
    examples += record_examples(parse_seeds(args.cathlab_seeds), True, args.size, log)
    log(f"{len(examples)} training phantoms ({time.perf_counter() - t0:.0f} s)")
    net = train(examples, out, args.steps, args.batch, args.lr, resume=args.resume, log=log)
    with atomic_path(out / "major_refiner.pt") as tmp:
        torch.save(
            {k: (v.detach().cpu().float() if v.is_floating_point() else v.cpu()) for k, v in net.state_dict().items()},
            tmp,
        )
    log(f"wrote {out / 'major_refiner.pt'} ({time.perf_counter() - t0:.0f} s in all)")
    dev = parse_seeds(args.dev_seeds)
    for cathlab in (False, True):
        geo, ref = score(net, record_examples(dev, cathlab, args.size, log=lambda m: None))
        log(f"development {'cath-lab' if cathlab else 'plain'} phantoms: geometric {geo:.4f}, refined {ref:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
