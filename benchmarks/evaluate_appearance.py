"""Accuracy under another cath lab's image chain: one evaluation per acquisition shift, the model next to Frangi.

Angiograms from other hospitals differ mostly in how the image was made and exported (display curve, noise,
detector blur, edge enhancement, bit depth, JPEG, exposure fall-off), not in anatomy. This runs
:func:`monai_angio.bundle.evaluation.evaluate_real` once per shift of :data:`SHIFTS` (each a fixed
:class:`monai_angio.transforms.AcquisitionShift`, the model loaded once) on the same images and masks and prints one
row per shift: model Dice mean / median / min, its change against the unshifted images, images below 0.4, and the
Frangi baseline on the same shifted images. Usage (real data: keep ``--out`` outside the repository)::

    python benchmarks/evaluate_appearance.py /data/cimat_train --ids 1,6,7 --out /tmp/appearance [--zoom 1.7067]
        [--weights runs/x/model.pt] [--set noise_threshold_sigma=0.04] [--shifts "gamma=1.6;jpeg=20"]
        [--sheet docs/images/acquisition_shifts.png]

``--sheet`` draws one synthetic cath-lab phantom (never a real image) under every shift, so the shifts can be seen.
Outputs in ``--out``: ``appearance.csv`` (one row per shift), ``appearance.json`` (the rows and every evaluation's
summary) and one sub-folder per shift with that evaluation's ``per_image.csv`` / ``summary.json``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from monai_angio.bundle.evaluation import DEFAULT_BUNDLE, evaluate_real
from monai_angio.bundle.locate import parse_config_overrides
from monai_angio.errors import AngioInputError
from monai_angio.transforms import parse_acquisition_shift
from monai_angio.utils import atomic_path, atomic_write

__all__ = ["SHIFTS", "COLUMNS", "evaluate_appearance", "shift_sheet", "main"]

#: the shifts, fixed before any measurement: each a plausible setting of another lab's chain, one change at a time,
#: then two together and one combination of several moderate changes
SHIFTS = (
    "none",
    "gamma=0.6",
    "gamma=1.6",
    "noise=0.02",
    "noise=0.04",
    "noise=0.05",
    "blur=1",
    "blur=2",
    "sharpen=1",
    "sharpen=2,sharpen_sigma=4",
    "bits=6",
    "jpeg=40",
    "jpeg=20",
    "ramp=0.5",
    "gamma=1.3,noise=0.02,sharpen=1,jpeg=50",
)

#: appearance.csv columns, in order
COLUMNS = (
    "shift",
    "model_dice_mean",
    "model_dice_median",
    "model_dice_min",
    "model_dice_change",
    "model_dice_lt_0.4",
    "model_components_mean",
    "frangi_dice_mean",
    "model_minus_frangi",
    "n_images",
)


def evaluate_appearance(
    data: str,
    out_dir: str,
    shifts: Sequence[str] = SHIFTS,
    bundle: str = DEFAULT_BUNDLE,
    weights: Optional[str] = None,
    model: Optional[Any] = None,
    ids: Optional[Sequence[str]] = None,
    zoom: float = 1.0,
    bundle_overrides: Optional[Dict[str, Any]] = None,
    overwrite: bool = False,
    allow_inside_repo: bool = False,
    log: Callable[[str], None] = print,
) -> Dict[str, Any]:
    """One evaluation per shift (module docstring); returns ``{"rows": [...], "summaries": {shift: summary}}``.

    Args:
        data: folder of images and binary vessel masks (``{n}.png`` / ``{n}_gt.png``).
        out_dir: output folder (one sub-folder per shift, ``appearance.csv``, ``appearance.json``).
        shifts: ``"name=value,..."`` texts (:func:`~monai_angio.transforms.parse_acquisition_shift`); the change
            column is against ``"none"``, which is evaluated first when missing.
        bundle: bundle name or folder.
        weights: checkpoint instead of the bundle's.
        model: an already loaded model (then ``bundle`` / ``weights`` only label the outputs).
        ids: case ids to evaluate.
        zoom: resize images and masks first (:func:`~monai_angio.bundle.evaluation.zoom_case`).
        bundle_overrides: config id -> value overrides of the bundle (e.g. ``{"noise_threshold_sigma": 0.04}``).
        overwrite: replace existing outputs.
        allow_inside_repo: allow ``out_dir`` inside the repository (synthetic data only).
        log: progress printer.

    Raises:
        AngioInputError: a bad shift text (named), or what :func:`evaluate_real` raises.
    """
    parsed = {}
    for text in shifts:
        try:
            parsed[text] = parse_acquisition_shift(text)
        except ValueError as e:
            raise AngioInputError(str(e)) from None
    order = [s for s in parsed if parsed[s].is_identity][:1] or ["none"]
    order += [s for s in parsed if s not in order]
    if "none" in order and "none" not in parsed:
        parsed["none"] = parse_acquisition_shift("none")
    out = Path(out_dir)
    if model is None:
        from monai_angio.bundle.runner import load_bundle

        model = load_bundle(bundle, weights=weights, **(bundle_overrides or {}))
    summaries: Dict[str, Dict[str, Any]] = {}
    rows: List[Dict[str, Any]] = []
    base = None
    for k, text in enumerate(order, 1):
        shift = parsed[text]
        name = shift.describe()
        log(f"[{k}/{len(order)}] shift {name}")
        res = evaluate_real(data, out / _folder_name(name), bundle=bundle, weights=weights, model=model, ids=ids,
                            zoom=zoom, appearance=shift, overwrite=overwrite, allow_inside_repo=allow_inside_repo,
                            log=None)
        s = res["summary"]
        summaries[name] = s
        m = s["metrics"]
        if base is None:
            base = m["model_dice"]["mean"]
        rows.append({
            "shift": name,
            "model_dice_mean": m["model_dice"]["mean"],
            "model_dice_median": m["model_dice"]["median"],
            "model_dice_min": m["model_dice"]["min"],
            "model_dice_change": m["model_dice"]["mean"] - base,
            "model_dice_lt_0.4": s["counts"]["model_dice_lt_0.4"],
            "model_components_mean": m["model_components"]["mean"],
            "frangi_dice_mean": m["frangi_dice"]["mean"],
            "model_minus_frangi": s["model_minus_frangi_mean_dice"],
            "n_images": s["n_images"],
        })
        log("  " + _row_text(rows[-1]))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    with atomic_write(out / "appearance.csv", "w", overwrite=overwrite, encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    with atomic_write(out / "appearance.json", "w", overwrite=overwrite, encoding="utf-8") as f:
        json.dump({"rows": rows, "summaries": summaries}, f, indent=2)
        f.write("\n")
    log(format_rows(rows))
    return {"rows": rows, "summaries": summaries}


def _folder_name(name: str) -> str:
    return "shift_" + name.replace("=", "").replace(",", "_").replace(".", "p")


def _row_text(r: Dict[str, Any]) -> str:
    return (f"model Dice {r['model_dice_mean']:.3f} (min {r['model_dice_min']:.3f}, change "
            f"{r['model_dice_change']:+.3f}, < 0.4: {r['model_dice_lt_0.4']}) | Frangi {r['frangi_dice_mean']:.3f}")


def format_rows(rows: Sequence[Dict[str, Any]]) -> str:
    """Markdown table of the rows of :func:`evaluate_appearance`."""
    lines = ["| shift | model Dice mean / median / min | change | < 0.4 | components | Frangi Dice mean | "
             "model - Frangi |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['shift']} | {r['model_dice_mean']:.3f} / {r['model_dice_median']:.3f} / {r['model_dice_min']:.3f} "
            f"| {r['model_dice_change']:+.3f} | {r['model_dice_lt_0.4']} of {r['n_images']} "
            f"| {r['model_components_mean']:.1f} | {r['frangi_dice_mean']:.3f} | {r['model_minus_frangi']:+.3f} |"
        )
    return "\n".join(lines)


def shift_sheet(path: str, shifts: Sequence[str] = SHIFTS, seed: int = 910_000, size: int = 512,
                overwrite: bool = False) -> Path:
    """One synthetic cath-lab phantom (``PhantomConfig.cathlab``, ``seed``) under every shift, a tile each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from monai_angio.data.synthetic import PhantomConfig, generate_phantom

    image = generate_phantom(seed, PhantomConfig.cathlab(size=size)).image
    cols = 5
    rows_n = int(np.ceil(len(shifts) / cols))
    fig, axes = plt.subplots(rows_n, cols, figsize=(2.6 * cols, 2.8 * rows_n))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, text in zip(np.ravel(axes), shifts):
        shift = parse_acquisition_shift(text)
        ax.imshow(np.asarray(shift(image)), cmap="gray")
        ax.set_title(shift.describe().replace(",", "\n"), fontsize=8)
    fig.suptitle(f"acquisition shifts of benchmarks/evaluate_appearance.py on cath-lab phantom {seed} ({size} px)",
                 fontsize=9)
    fig.tight_layout()
    out = Path(path)
    with atomic_path(out, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=60, format="png")
    plt.close(fig)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="?", default=None, help="folder of {n}.png + {n}_gt.png (omit with --sheet only)")
    p.add_argument("--out", default=None, help="output folder (outside the repository for real data)")
    p.add_argument("--bundle", default=DEFAULT_BUNDLE)
    p.add_argument("--weights", default=None)
    p.add_argument("--ids", default=None, help="comma-separated case ids")
    p.add_argument("--zoom", type=float, default=1.0)
    p.add_argument("--set", action="append", default=[], metavar="ID=VALUE", dest="overrides",
                   help="override a config id of the bundle (repeatable), e.g. noise_threshold_sigma=0.04")
    p.add_argument("--shifts", default=None, help="';'-separated shift texts (default: the fixed list SHIFTS)")
    p.add_argument("--sheet", default=None, help="also draw the shifts on a synthetic phantom into this PNG")
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)
    shifts = SHIFTS if args.shifts is None else [s.strip() for s in args.shifts.split(";") if s.strip()]
    try:
        if args.sheet:
            print(f"wrote {shift_sheet(args.sheet, shifts, overwrite=args.overwrite)}")
        if args.data is not None:
            if args.out is None:
                p.error("--out is required with DATA")
            ids = None if args.ids is None else [s.strip() for s in args.ids.split(",") if s.strip()]
            evaluate_appearance(args.data, args.out, shifts, bundle=args.bundle, weights=args.weights, ids=ids,
                                zoom=args.zoom, bundle_overrides=parse_config_overrides(args.overrides, args.bundle),
                                overwrite=args.overwrite)
    except (AngioInputError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
