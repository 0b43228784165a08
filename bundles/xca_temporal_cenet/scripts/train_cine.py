"""Train the temporal CE-Net bundle on synthetic cines (2N+1-frame windows) and real stills (static windows).

The seed's choices are kept: a 3D convolution over the target frame and ``N`` neighbours on each side fused into a
3-channel image, a CE-Net (ResNet encoder, DAC, RMP), two softmax classes (background, artery). Labelled real cines
are not available, so motion comes from :func:`monai_angio.data.generate_cine` (cath-lab preset: collimators,
anatomy, devices, partial filling, cardiac + respiratory motion, fresh quantum noise per frame, here at a low dose
so that neighbouring frames carry information); real vessel masks (``--real``) teach real appearance through static
windows. The shipped width is lighter than the paper's (``--layers 2,2,2,2 --filters 32,64,128,256``, 4.7 M
parameters instead of 29 M; the paper's ResNet-34 width cannot be trained on a 2-core CPU).

``--neighbors 0`` trains the *same* CE-Net on single frames on the same samples: the 2-D baseline of the README's
comparison. At the end the model is scored on held-out synthetic cines (seeds disjoint from training) and the
IoU is written to ``OUT/synthetic_eval.json``.

Example (the commands behind the shipped weights are in ``docs/README.md``)::

    python bundles/xca_temporal_cenet/scripts/train_cine.py --neighbors 2 --out runs/temporal_n2 \
        --real ../shared/real/cimat_train --holdout 2,3,4,5,12,19,24,25,28,35
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from monai.losses import DiceCELoss

from monai_angio.bundle.training import recipe_parser, run_recipe, split_real_cases
from monai_angio.data.cine_windows import CineWindowDataset, build_cine_set, window_iou
from monai_angio.losses import CodedBinaryLoss
from monai_angio.networks import temporal_cenet

TRAIN_SEED0, EVAL_SEED0 = 100_000, 900_000


def cine_config(size: int, dose: tuple):
    """``seed -> PhantomConfig``: the cath-lab preset at ``size`` px with a low-dose (noisy) exposure."""
    from monai_angio.data.synthetic import PhantomConfig

    def make(seed: int):
        return PhantomConfig.cathlab(size=size, dose=dose)

    return make


def _ints(text: str) -> tuple:
    return tuple(int(v) for v in text.split(","))


def main(argv=None) -> int:
    p = recipe_parser(
        __doc__.split("\n\n")[0], real_required=False, epochs=8, iters=75, batch=8, crop=256, lr=2e-3,
        real_fraction=0.3, threads=1, workers=0,
    )
    p.add_argument("--neighbors", type=int, default=2, help="N: the network sees 2N+1 frames (0 = 2-D baseline)")
    p.add_argument("--layers", type=_ints, default=(2, 2, 2, 2), help="CE-Net encoder blocks per stage")
    p.add_argument("--filters", type=_ints, default=(32, 64, 128, 256), help="CE-Net encoder channels per stage")
    p.add_argument("--train-cines", type=int, default=80)
    p.add_argument("--eval-cines", type=int, default=20)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--size", type=int, default=256, help="cine size (px); must be >= --crop")
    p.add_argument("--dose", type=_ints, default=(150, 1500), help="photons per pixel range (lower = noisier)")
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    make = cine_config(args.size, tuple(float(v) for v in args.dose))
    t0 = time.time()

    def say(done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            print(f"cines {done}/{total} ({time.time() - t0:.0f} s)", flush=True)

    train = build_cine_set(range(TRAIN_SEED0, TRAIN_SEED0 + args.train_cines), make, args.frames, progress=say)
    print(f"training cines: {len(train)}, target frames {len(train.target_frames)}", flush=True)
    real = None
    if args.real:
        from monai_angio.data.mixed import MixedAngioDataset, MixedSampleConfig

        items, _ = split_real_cases(args.real, args.holdout, args.n_holdout, args.holdout_seed)
        real = MixedAngioDataset(
            items,
            length=4096,
            config=MixedSampleConfig(crop=args.crop, real_fraction=1.0, fov_method=args.fov_method),
        )
    ds = CineWindowDataset(
        train, args.neighbors, args.iters * args.batch, args.crop, real, args.real_fraction if real else 0.0, args.seed
    )
    net = temporal_cenet(num_neighbors=args.neighbors, out_channels=2, layers=args.layers, filters=args.filters)
    loss = CodedBinaryLoss(DiceCELoss(to_onehot_y=True, softmax=True, batch=True))
    model_path = run_recipe(args, net, loss, dataset=ds)

    held = build_cine_set(range(EVAL_SEED0, EVAL_SEED0 + args.eval_cines), make, args.frames)
    iou = window_iou(net, held, args.neighbors)
    ok = iou[np.isfinite(iou)]
    summary = {
        "neighbors": args.neighbors,
        "frames_in_window": 2 * args.neighbors + 1,
        "eval_seeds": [EVAL_SEED0, EVAL_SEED0 + args.eval_cines - 1],
        "eval_target_frames": int(len(iou)),
        "iou": {
            "mean": float(ok.mean()), "median": float(np.median(ok)), "min": float(ok.min()), "max": float(ok.max())
        },
        "per_frame_iou": [None if not np.isfinite(v) else round(float(v), 4) for v in iou],
        "args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()},
        "minutes": round((time.time() - t0) / 60, 1),
    }
    (model_path.parent / "synthetic_eval.json").write_text(json.dumps(summary, indent=1))
    print(f"held-out synthetic IoU (N={args.neighbors}): mean {ok.mean():.3f} median {np.median(ok):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
