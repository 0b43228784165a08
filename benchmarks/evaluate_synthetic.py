"""Artery, vessel and catheter Dice of a bundle on held-out synthetic phantoms (plain and cath-lab realistic).

"artery" is label 1 against the phantom's major arteries (>= 2 mm at the origin, the flagship's class), "vessel" is
label 1 against every drawn artery (thin branches too, the class of the binary vessel bundles and of the real
masks), "catheter" is label 2. "artery_dice_thin_ignored" is the artery Dice with the thin drawn branches (below the
2 mm criterion) left out of the comparison, the "unknown" coding they have in training
(:func:`monai_angio.data.mixed.encode_phantom`): it separates segmentation errors from the label conflict with real
expert masks, which draw thin branches as vessel. "local_artery_f1" is the major-vessel study's local F1: the artery
F1 (= Dice) inside a box around the phantom's most severe stenosis (128 px at 512 px, scaled with the image size), for
phantoms with a lesion; the summary also gives the share of phantoms whose artery F1 is above 0.8 (the study's 93.7 %
figure). "major_artery_dice" (only for a bundle whose postprocessing makes a major-artery map,
:class:`~monai_angio.transforms.ArteryBranchLabeld`: the label map's artery where a major-artery / branch network's
major class outweighs its branch class, or the flagship's ``--set major_map=true`` map of
:class:`~monai_angio.transforms.MajorArteryMapd`) is that map against the phantom's major arteries: the flagship's
clinical class on its own, while label 1 follows the real experts and draws branches too.
"device_as_artery_px" counts label-1 pixels on a dark non-artery device (guidewire, sternal wire, clip, ECG or
pacemaker lead: the phantom's ``device_mask`` grown by 2 px) farther than 2 px from any drawn vessel or the catheter:
the wires a model mistakes for arteries, 0 on plain phantoms, which have no devices.

Phantoms are generated from seeds the training recipe never draws (training seeds come from a random generator over
``0 .. 2**31``; these are a fixed block of small integers, so a collision is practically impossible and can be
checked). The bundle runs through :class:`monai_angio.bundle.BundleRunner`, i.e. its own ``inference.json``.

``--sheet PNG`` draws the worst phantoms (most device pixels called artery on cath-lab phantoms, otherwise the lowest
artery Dice): the image, the truth (major artery, catheter, thin branches, devices) and the bundle's label map.

Example::

    python benchmarks/evaluate_synthetic.py --n 20 --size 512 [--weights runs/real/model.pt] [--cathlab] [--sheet x.png]
        [--set major_map=true]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
from scipy import ndimage

from monai_angio.bundle import load_bundle
from monai_angio.data.synthetic import PhantomConfig, generate_phantom
from monai_angio.metrics import dice, local_f1


def evaluate_synthetic(
    bundle: str = "xca_artery_catheter_efficientunetpp",
    weights: Optional[str] = None,
    n: int = 20,
    size: int = 512,
    seed: int = 900_000,
    cathlab: bool = False,
    log=print,
    sheet: Optional[str] = None,
    sheet_tiles: int = 3,
    overrides: Optional[Dict[str, object]] = None,
) -> Dict[str, object]:
    """Per-phantom artery / catheter Dice and their summary (mean, median, min, max); ``sheet``: also draw the
    ``sheet_tiles`` worst phantoms there (:func:`worst_rows`, :func:`error_sheet`); ``overrides``: config ids of the
    bundle's ``inference.json`` (e.g. ``{"major_map": True}``)."""
    runner = load_bundle(bundle, weights=weights, **dict(overrides or {}))
    rows: List[Dict[str, float]] = []
    labels: Dict[int, np.ndarray] = {}
    for i in range(n):
        cfg = PhantomConfig.cathlab(size=size) if cathlab else PhantomConfig(size=size)
        ph = generate_phantom(seed + i, cfg)
        t0 = time.perf_counter()
        lab = runner.predict(ph.image[None])[0]
        box = max(16, int(round(128 * size / 512)))
        worst = max(ph.stenoses, key=lambda st: st.percent_diameter, default=None)
        local = float(local_f1(lab == 1, ph.label == 1, worst.center_rc, box)) if worst is not None else float("nan")
        major = (getattr(runner, "extra_maps", None) or {}).get("major")
        vessels = np.asarray(ph.vessel_mask) > 0
        known = ~(vessels & (ph.label == 0))  # thin drawn branches: unknown
        near = ndimage.binary_dilation(vessels | (ph.label > 0), iterations=2)
        on_device = ndimage.binary_dilation(np.asarray(ph.device_mask, bool), iterations=2) & ~near
        row = {
            "seed": seed + i,
            "artery_dice": float(dice(lab == 1, ph.label == 1)),
            "artery_dice_thin_ignored": float(dice((lab == 1) & known, ph.label == 1)),
            "local_artery_f1": local,
            "vessel_dice": float(dice(lab == 1, vessels & (ph.label != 2))),
            "catheter_dice": float(dice(lab == 2, ph.label == 2)),
            "major_artery_dice": float(dice(major[0] > 0, ph.label == 1)) if major is not None else float("nan"),
            "device_as_artery_px": float(((lab == 1) & on_device).sum()),
            "seconds": time.perf_counter() - t0,
        }
        rows.append(row)
        if sheet:
            labels[seed + i] = np.asarray(lab, np.uint8)
        log(
            f"[{i + 1:2d}/{n}] seed {seed + i}: artery {row['artery_dice']:.3f} "
            f"(thin ignored {row['artery_dice_thin_ignored']:.3f}) vessel {row['vessel_dice']:.3f} "
            f"catheter {row['catheter_dice']:.3f}"
            + (f" major artery {row['major_artery_dice']:.3f}" if major is not None else "")
        )
    summary = {}
    for key in ("artery_dice", "artery_dice_thin_ignored", "vessel_dice", "catheter_dice", "local_artery_f1",
                "major_artery_dice", "device_as_artery_px"):
        v = np.array([r[key] for r in rows])
        v = v[np.isfinite(v)]
        if v.size:
            summary[key] = {"mean": float(v.mean()), "median": float(np.median(v)), "min": float(v.min()),
                            "max": float(v.max()), "n": int(v.size)}
    art = np.array([r["artery_dice"] for r in rows])
    summary["artery_f1_above_0.8"] = {"fraction": float((art > 0.8).mean()), "n": int(art.size)}
    if sheet:
        picked = worst_rows(rows, "device_as_artery_px" if cathlab else "artery_dice", sheet_tiles)
        error_sheet([(r, labels[r["seed"]]) for r in picked], sheet, size, cathlab)
        log(f"wrote {sheet}")
    return {"rows": rows, "summary": summary, "config": {"n": n, "size": size, "seed": seed, "cathlab": cathlab,
                                                         "bundle": bundle, "weights": weights}}


def worst_rows(rows: Sequence[Dict[str, float]], key: str, k: int) -> List[Dict[str, float]]:
    """The ``k`` rows worst by ``key``: the largest ``device_as_artery_px``, the lowest of a Dice (ties: seed order)."""
    sign = -1.0 if key == "device_as_artery_px" else 1.0
    return sorted(rows, key=lambda r: (sign * float(r[key]), r["seed"]))[: max(0, int(k))]


#: truth colours of :func:`error_sheet` (the label map keeps the overlays' own: artery red, catheter green)
TRUTH_COLORS = {1: (255, 0, 0), 2: (0, 255, 0), 3: (40, 120, 255), 4: (255, 220, 0)}


def error_sheet(picked: Sequence[tuple], path: str, size: int, cathlab: bool) -> None:
    """One row per ``(row, label map)``: the phantom, its truth and the label map, with a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from monai_angio.apps.overlay import overlay_labels

    fig, axes = plt.subplots(len(picked), 3, figsize=(12, 4.1 * len(picked) + 0.7), squeeze=False,
                             constrained_layout=True)
    for (row, lab), ax in zip(picked, axes):
        cfg = PhantomConfig.cathlab(size=size) if cathlab else PhantomConfig(size=size)
        ph = generate_phantom(int(row["seed"]), cfg)
        truth = np.asarray(ph.label, np.uint8).copy()
        truth[(np.asarray(ph.vessel_mask) > 0) & (truth == 0)] = 3
        truth[np.asarray(ph.device_mask, bool) & (truth == 0)] = 4
        ax[0].imshow(ph.image, cmap="gray")
        ax[1].imshow(overlay_labels(ph.image, truth, alpha=0.7, colors=TRUTH_COLORS))
        ax[2].imshow(overlay_labels(ph.image, lab, alpha=0.7))
        ax[0].set_title(f"seed {row['seed']}", fontsize=10)
        ax[1].set_title("truth", fontsize=10)
        ax[2].set_title(f"label map: artery Dice {row['artery_dice']:.3f}, "
                        f"{int(row['device_as_artery_px'])} device px as artery", fontsize=10)
        for a in ax:
            a.axis("off")
    names = {1: "artery (>= 2 mm at origin; label map: artery)", 2: "catheter", 3: "thin branch (truth only)",
             4: "device: lead, wire, clip (truth only)"}
    handles = [Patch(color=np.asarray(c) / 255.0, label=names[v]) for v, c in TRUTH_COLORS.items()]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=9)
    fig.savefig(path, dpi=60)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", default="xca_artery_catheter_efficientunetpp")
    p.add_argument("--weights", default=None)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--seed", type=int, default=900_000)
    p.add_argument("--cathlab", action="store_true", help="realistic cath-lab phantoms (PhantomConfig.cathlab)")
    p.add_argument("--json", default=None, help="write the result here")
    p.add_argument("--sheet", default=None, help="draw the worst phantoms into this PNG")
    p.add_argument("--sheet-tiles", type=int, default=3, help="how many phantoms --sheet draws")
    p.add_argument(
        "--set", action="append", default=[], metavar="ID=VALUE", dest="overrides",
        help="override a config id of the bundle's inference.json (VALUE read as JSON), e.g. major_map=true",
    )
    args = p.parse_args(argv)
    from monai_angio.bundle.locate import parse_config_overrides

    overrides = parse_config_overrides(args.overrides, args.bundle)
    res = evaluate_synthetic(args.bundle, args.weights, args.n, args.size, args.seed, args.cathlab,
                             log=lambda m: print(m, flush=True), sheet=args.sheet, sheet_tiles=args.sheet_tiles,
                             overrides=overrides)
    for key, s in res["summary"].items():
        if "mean" in s:
            print(f"{key}: mean {s['mean']:.3f} median {s['median']:.3f} min {s['min']:.3f} max {s['max']:.3f}")
        else:
            print(f"{key}: {100 * s['fraction']:.1f} % of {s['n']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
