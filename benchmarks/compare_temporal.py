"""Does the temporal window help? IoU of temporal CE-Nets trained with different N on the same held-out cines.

Each run folder is one ``bundles/xca_temporal_cenet/scripts/train_cine.py`` run (``model.pt`` and its
``synthetic_eval.json``, which records N, the CE-Net width and the cine settings). All models are scored on the
same held-out synthetic cines (seeds from ``--seed``, disjoint from the training seeds 100000+), on every target
frame (contrast >= 25 % of the run's peak), artery IoU with thin branches left out
(:func:`monai_angio.data.cine_windows.window_iou`). The first run is the reference (e.g. N = 0, single frames);
each other run gets its mean IoU difference per cine, the number of cines it improves, and a 95 % bootstrap
interval over cines (frames of one cine are not independent).

Example::

    python benchmarks/compare_temporal.py runs/temporal_n0 runs/temporal_n1 runs/temporal_n2 --cines 60
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from monai_angio.data.cine_windows import build_cine_set, window_iou
from monai_angio.networks import temporal_cenet

SCRIPT = Path(__file__).resolve().parents[1] / "bundles" / "xca_temporal_cenet" / "scripts" / "train_cine.py"


def _recipe():
    spec = importlib.util.spec_from_file_location("train_cine", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _load(run: Path) -> Dict:
    info = json.loads((run / "synthetic_eval.json").read_text())
    a = info["args"]
    net = temporal_cenet(num_neighbors=int(a["neighbors"]), out_channels=2, layers=a["layers"], filters=a["filters"])
    net.load_state_dict(torch.load(run / "model.pt", map_location="cpu", weights_only=True))
    return {"run": str(run), "n": int(a["neighbors"]), "net": net.eval(), "args": a}


def bootstrap_ci(per_cine: np.ndarray, rounds: int = 4000, seed: int = 0) -> List[float]:
    """95 % percentile bootstrap interval of the mean over cines."""
    rng = np.random.default_rng(seed)
    k = len(per_cine)
    means = [float(np.nanmean(per_cine[rng.integers(0, k, k)])) for _ in range(rounds)]
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="train_cine.py run folders; the first is the reference")
    p.add_argument("--cines", type=int, default=60, help="held-out cines (default 60)")
    p.add_argument("--seed", type=int, default=900_000, help="first held-out seed (default 900000)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None, help="write the result here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    models = [_load(Path(r)) for r in args.runs]
    a0 = models[0]["args"]
    for m in models[1:]:
        for key in ("size", "frames", "dose", "train_cines", "epochs", "iters", "batch", "seed", "real_fraction"):
            if m["args"].get(key) != a0.get(key):
                print(f"warning: {m['run']} differs from {models[0]['run']} in {key}", file=sys.stderr)
    make = _recipe().cine_config(int(a0["size"]), tuple(float(v) for v in a0["dose"]))
    t0 = time.time()
    held = build_cine_set(range(args.seed, args.seed + args.cines), make, int(a0["frames"]))
    cine_of = np.array([k for k, _ in held.target_frames])
    print(f"{args.cines} held-out cines, {len(cine_of)} target frames ({time.time() - t0:.0f} s)", flush=True)
    ious = {}
    for m in models:
        ious[m["run"]] = window_iou(m["net"], held, m["n"])
        v = ious[m["run"]]
        print(f"N={m['n']} ({m['run']}): IoU mean {np.nanmean(v):.3f} median {np.nanmedian(v):.3f} "
              f"min {np.nanmin(v):.3f} max {np.nanmax(v):.3f} ({time.time() - t0:.0f} s)", flush=True)
    ref = ious[models[0]["run"]]
    rows = []
    for m in models:
        v = ious[m["run"]]
        row = {"run": m["run"], "neighbors": m["n"], "iou_mean": float(np.nanmean(v)),
               "iou_median": float(np.nanmedian(v)), "iou_min": float(np.nanmin(v)), "iou_max": float(np.nanmax(v))}
        if m is not models[0]:
            per = np.array([np.nanmean(v[cine_of == c] - ref[cine_of == c]) for c in range(args.cines)])
            per = per[np.isfinite(per)]
            row.update(diff_mean=float(per.mean()), cines_better=int((per > 0).sum()), cines=int(per.size),
                       diff_ci95=bootstrap_ci(per))
            print(f"N={m['n']} - N={models[0]['n']}: {row['diff_mean']:+.4f} IoU per cine, better on "
                  f"{row['cines_better']}/{row['cines']} cines, 95 % CI [{row['diff_ci95'][0]:+.4f}, "
                  f"{row['diff_ci95'][1]:+.4f}]")
        rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": args.seed, "cines": args.cines,
                                               "frames": int(len(cine_of)), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
