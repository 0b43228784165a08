"""Field-of-view detection against the generator's true field, on cath-lab phantoms, for both detector methods.

Usage::

    python benchmarks/evaluate_fov.py --n 150 --seed 700000 [--sheet docs/images/fov_methods.png] [--json out.json]

Phantom ``i`` is ``generate_phantom(seed + i, PhantomConfig.cathlab(size=sizes[i % len(sizes)]))`` (sizes 256, 384,
512, 768, 1024 by default). Each method (:data:`monai_angio.transforms.fov.FOV_METHODS`) detects the field of view
with ``border_reference=True`` (the bundles' label mask; the normalisation mask differs only in small corners) and
is scored on the phantoms whose true shadow covers at least 0.1 % of the image:

- ``missed``: share of the true shadow left inside the detected field (the false positives it lets through);
- ``overcut``: share of the true field, beyond the detector's margin and 3 px more, that the detection cuts away;
- ``labels_lost``: share of the phantom's artery / catheter pixels outside the detected field (the margin included);
- ``seconds``: detection time of the frame.

Prints one line per method (mean, median, max and counts) and optionally writes a JSON summary and a contact sheet
of the phantoms where the two methods differ most (true field cyan, ``basic`` yellow, ``robust`` red).
"""

from __future__ import annotations

import argparse
import inspect
import json
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
from scipy import ndimage as ndi

from monai_angio.data.synthetic import PhantomConfig, generate_phantom
from monai_angio.transforms.fov import FOV_METHODS, field_of_view_mask

__all__ = ["score_detection", "evaluate_fov", "main"]

#: the detector's margin, read from field_of_view_mask's signature so the two cannot drift apart
MARGIN_FRACTION = float(inspect.signature(field_of_view_mask).parameters["margin_fraction"].default)


def score_detection(fov: np.ndarray, truth: np.ndarray, labels: np.ndarray) -> Dict[str, float]:
    """``missed`` / ``overcut`` / ``labels_lost`` (module docstring) of a detected ``fov`` against the ``truth``."""
    shadow = ~truth
    margin = max(1, int(round(MARGIN_FRACTION * min(truth.shape))))
    core = ndi.binary_erosion(truth, iterations=margin + 3, border_value=1)
    labelled = labels > 0
    return {
        "missed": float((fov & shadow).sum() / max(int(shadow.sum()), 1)),
        "overcut": float((~fov & core).sum() / max(int(core.sum()), 1)),
        "labels_lost": float((labelled & ~fov).sum() / max(int(labelled.sum()), 1)),
    }


def evaluate_fov(
    n: int = 150, seed: int = 700_000, sizes: Sequence[int] = (256, 384, 512, 768, 1024), log=print
) -> Dict[str, object]:
    """Per-phantom scores of both methods and their summary; phantoms without a shadow are skipped."""
    rows: List[Dict[str, object]] = []
    for i in range(n):
        size = int(sizes[i % len(sizes)])
        ph = generate_phantom(seed + i, PhantomConfig.cathlab(size=size))
        if (~ph.fov_mask).mean() < 0.001:
            continue
        row: Dict[str, object] = {"seed": seed + i, "size": size, "shadow": float((~ph.fov_mask).mean())}
        for method in FOV_METHODS:
            t0 = time.perf_counter()
            fov = field_of_view_mask(ph.image, border_reference=True, method=method)
            scores = score_detection(fov, ph.fov_mask, ph.label)
            scores["seconds"] = time.perf_counter() - t0
            row[method] = scores
        rows.append(row)
        if (i + 1) % 25 == 0:
            log(f"[{i + 1}/{n}] phantoms generated and scored", flush=True)
    summary: Dict[str, object] = {"n_phantoms": n, "n_with_shadow": len(rows), "seed": seed, "sizes": list(sizes)}
    for method in FOV_METHODS:
        per: Dict[str, Dict[str, float]] = {}
        for key in ("missed", "overcut", "labels_lost", "seconds"):
            v = np.array([r[method][key] for r in rows], float)
            per[key] = {"mean": float(v.mean()), "median": float(np.median(v)), "max": float(v.max())}
        per["missed_over_10pct"] = int(sum(r[method]["missed"] > 0.1 for r in rows))
        per["overcut_over_1pct"] = int(sum(r[method]["overcut"] > 0.01 for r in rows))
        summary[method] = per
    summary["rows"] = rows
    return summary


def contact_sheet(rows: Sequence[Dict[str, object]], path: str, tiles: int = 8) -> None:
    """Draw the ``tiles`` phantoms where the methods' missed shadow differs most."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    picked = sorted(rows, key=lambda r: r["basic"]["missed"] - r["robust"]["missed"], reverse=True)[:tiles]
    cols = 4
    n_rows = (len(picked) + cols - 1) // cols
    fig, axes = plt.subplots(n_rows, cols, figsize=(4 * cols, 4.4 * n_rows + 0.8), constrained_layout=True)
    for ax, row in zip(np.ravel(axes), picked):
        ph = generate_phantom(int(row["seed"]), PhantomConfig.cathlab(size=int(row["size"])))
        ax.imshow(ph.image, cmap="gray", vmin=0, vmax=1)
        ax.contour(ph.fov_mask, [0.5], colors="c", linewidths=1.0)
        for method, colour, style in (("basic", "y", "--"), ("robust", "r", "-")):
            fov = field_of_view_mask(ph.image, border_reference=True, method=method)
            if not fov.all():
                ax.contour(fov, [0.5], colors=colour, linewidths=1.0, linestyles=style)
        ax.set_title(f"seed {row['seed']}, {row['size']} px: missed {row['basic']['missed']:.0%} -> "
                     f"{row['robust']['missed']:.0%}", fontsize=9)
        ax.axis("off")
    for ax in np.ravel(axes)[len(picked):]:
        ax.axis("off")
    handles = [Line2D([], [], color="c", label="true field (generator)"),
               Line2D([], [], color="y", linestyle="--", label="basic (no line: nothing found)"),
               Line2D([], [], color="r", label="robust (the bundles' choice)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=10)
    fig.suptitle("Field of view on cath-lab phantoms: where the methods differ most", fontsize=12)
    fig.savefig(path, dpi=70)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--seed", type=int, default=700_000)
    p.add_argument("--sizes", default="256,384,512,768,1024", help="comma-separated frame sizes, cycled")
    p.add_argument("--sheet", default="", help="write a contact sheet (PNG) here")
    p.add_argument("--json", default="", help="write the summary and per-phantom rows here")
    args = p.parse_args(argv)
    summary = evaluate_fov(args.n, args.seed, [int(s) for s in args.sizes.split(",")])
    print(f"{summary['n_with_shadow']} of {args.n} phantoms have a collimator / shutter shadow")
    for method in FOV_METHODS:
        s = summary[method]
        print(
            f"{method:6s}: shadow missed mean {s['missed']['mean']:.3f} median {s['missed']['median']:.3f} "
            f"max {s['missed']['max']:.3f} ({s['missed_over_10pct']} over 10 %) | field cut beyond the margin mean "
            f"{s['overcut']['mean']:.4f} max {s['overcut']['max']:.3f} ({s['overcut_over_1pct']} over 1 %) | "
            f"labels lost mean {s['labels_lost']['mean']:.4f} | {s['seconds']['median'] * 1000:.0f} ms median"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    if args.sheet:
        contact_sheet(summary["rows"], args.sheet)
        print(f"wrote {args.sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
