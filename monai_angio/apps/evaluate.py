"""``monai-angio evaluate``: score a bundle on your own angiograms with expert vessel masks, next to Frangi.

Examples::

    monai-angio evaluate /data/cimat --out /tmp/eval                       # {n}.png + {n}_gt.png
    monai-angio evaluate /data/DCA1 --layout dca1 --out /tmp/eval_dca1 --ids 1,2,3
    monai-angio evaluate arcade/syntax/test/annotations/test.json --layout arcade --out /tmp/eval_arcade
    monai-angio evaluate /data/cimat --out /tmp/eval_ho --n-holdout 10 --holdout-seed 0   # held-back cases only
    monai-angio evaluate /data/cimat --out /tmp/eval_512 --zoom 1.7067    # 300 px data with vessels as at 512 px
    monai-angio evaluate /data/cimat --out /tmp/eval_g --appearance gamma=1.6,jpeg=40   # another image chain

Writes ``per_image.csv``, ``summary.json`` and ``contact_sheet.png`` (best, median and worst image by model Dice:
image | truth | model overlay | Frangi overlay, with a legend) into ``--out``, which must lie outside the package's
source tree (real-data results are not to be committed). The model is compared as label 1 (artery) against
``mask > 0``; the engine is :mod:`monai_angio.bundle.evaluation`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from monai_angio.bundle.locate import DEFAULT_BUNDLE, PathLike, parse_config_overrides
from monai_angio.data.real import DEFAULT_IMAGE_PATTERN, DEFAULT_MASK_PATTERN
from monai_angio.errors import AngioInputError
from monai_angio.utils import atomic_path

__all__ = ["evaluate_real", "save_contact_sheet", "add_arguments", "run", "register", "main"]


def evaluate_real(data: PathLike, out_dir: PathLike, contact_sheet: bool = True, **kwargs: Any) -> Dict[str, Any]:
    """:func:`monai_angio.bundle.evaluation.evaluate_real` with :func:`save_contact_sheet` drawing the sheet.

    Args:
        data: folder of images and masks.
        out_dir: output folder.
        contact_sheet: write ``contact_sheet.png``.
        kwargs: any other argument of :func:`monai_angio.bundle.evaluation.evaluate_real`.
    """
    from monai_angio.bundle.evaluation import evaluate_real as _evaluate_real  # torch: imported when run

    writer = save_contact_sheet if contact_sheet else None
    return _evaluate_real(data, out_dir, contact_sheet_writer=writer, **kwargs)


TRUTH_COLOR = (255, 200, 0)
FRANGI_COLOR = (0, 170, 255)


def save_contact_sheet(
    path: PathLike,
    panels: Sequence[Dict[str, Any]],
    title: str = "",
    overwrite: bool = False,
) -> Path:
    """Contact sheet: one row per image (image | truth | model overlay | Frangi overlay) with a colour legend.

    Args:
        path: output PNG (written atomically).
        panels: dicts ``{"name", "image", "truth", "model", "frangi", "row"}``: ``name`` labels the row (e.g.
            ``"best"``), ``model`` is the model's label map (1 artery, 2 catheter), ``frangi`` and ``truth`` are
            binary, ``row`` the image's CSV row (its metrics go into the panel titles).
        title: figure title.
        overwrite: replace an existing file.

    Returns:
        The written path.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from monai_angio.apps.overlay import LABEL_COLORS, overlay_labels

    n = max(1, len(panels))
    fig = Figure(figsize=(13.0, 3.75 * n + 0.9))
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, 4, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for r, p in enumerate(panels):
        img = np.asarray(p["image"], dtype=np.float32)
        row = p["row"]
        axes[r, 0].imshow(img, cmap="gray", interpolation="nearest")
        axes[r, 0].set_title(f"{p['name']}: case {row['case']} ({int(row['height'])}x{int(row['width'])})", fontsize=9)
        axes[r, 1].imshow(overlay_labels(img, np.asarray(p["truth"], np.uint8), colors={1: TRUTH_COLOR}))
        axes[r, 1].set_title(f"truth ({int(row['gt_px'])} px, {int(row['gt_components'])} comp.)", fontsize=9)
        axes[r, 2].imshow(overlay_labels(img, np.asarray(p["model"], np.uint8)))
        axes[r, 2].set_title(
            f"model: Dice {row['model_dice']:.3f}, clDice {row['model_cldice']:.3f}\n"
            f"P {row['model_precision']:.2f} R {row['model_recall']:.2f}, {int(row['model_components'])} comp."
            + (f", catheter {int(row['model_catheter_px'])} px" if row["model_catheter_found"] else ""),
            fontsize=8,
        )
        axes[r, 3].imshow(overlay_labels(img, np.asarray(p["frangi"], np.uint8), colors={1: FRANGI_COLOR}))
        axes[r, 3].set_title(
            f"Frangi: Dice {row['frangi_dice']:.3f}, clDice {row['frangi_cldice']:.3f}\n"
            f"P {row['frangi_precision']:.2f} R {row['frangi_recall']:.2f}, {int(row['frangi_components'])} comp.",
            fontsize=8,
        )
    handles = [
        Patch(facecolor=np.asarray(TRUTH_COLOR) / 255.0, label="truth vessel (mask > 0)"),
        Patch(facecolor=np.asarray(LABEL_COLORS[1]) / 255.0, label="model artery (label 1)"),
        Patch(facecolor=np.asarray(LABEL_COLORS[2]) / 255.0, label="model catheter (label 2)"),
        Patch(facecolor=np.asarray(FRANGI_COLOR) / 255.0, label="Frangi vessel"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.5 / fig.get_figheight(), 1, 1 - (0.35 / fig.get_figheight() if title else 0)))
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    return path


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the command's arguments to ``p`` (``monai-angio evaluate`` and ``benchmarks/evaluate_real.py``)."""
    p.add_argument("data", help="folder of images and binary vessel masks (--layout arcade: the COCO json)")
    p.add_argument("--out", required=True, help="output folder (outside the repository for real data)")
    p.add_argument("--bundle", default=DEFAULT_BUNDLE, help=f"bundle name or folder (default {DEFAULT_BUNDLE})")
    p.add_argument("--weights", default=None, help="checkpoint instead of <bundle>/models/model.pt")
    p.add_argument(
        "--layout",
        choices=("folder", "dca1", "arcade"),
        default="folder",
        help="data layout: folder of {n}.png + {n}_gt.png (patterns below), DCA1 folder, or DATA = an ARCADE COCO json "
        "(all SYNTAX segments of an image form its vessel mask); default folder",
    )
    p.add_argument("--image-pattern", default=DEFAULT_IMAGE_PATTERN, help="image file name, {n} = case id")
    p.add_argument("--mask-pattern", default=DEFAULT_MASK_PATTERN, help="mask file name, {n} = case id")
    p.add_argument("--mask-folder", default=None, help="folder of the masks if not DATA")
    p.add_argument("--ids", default=None, help="comma-separated case ids to evaluate (e.g. 3,17,22)")
    p.add_argument("--n-holdout", type=int, default=None, help="evaluate only the cases held back by --holdout-seed")
    p.add_argument("--holdout-seed", type=int, default=0, help="seed of the hold-out (default 0)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--min-size", type=int, default=None, help="model small-component removal (px; default: bundle)")
    p.add_argument("--frangi-sigmas", default=None, help="comma-separated Frangi sigmas in px (default: scaled 1..6)")
    p.add_argument(
        "--zoom",
        type=float,
        default=1.0,
        help="resize images and masks by this factor first (e.g. 1.7067: 300 px data at 512 px; default 1)",
    )
    p.add_argument(
        "--appearance",
        default=None,
        help="acquisition shift applied to every image after --zoom, to test another cath lab's image chain: "
        "name=value,... of ramp, noise, blur, gamma, sharpen, sharpen_sigma, bits, jpeg, seed "
        "(e.g. gamma=1.6 or sharpen=1.5,jpeg=40; default none)",
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="ID=VALUE", dest="overrides",
        help="override a config id of the bundle's inference.json (repeatable; VALUE read as JSON), e.g. "
        "noise_threshold_sigma=0.04",
    )  # fmt: skip
    p.add_argument("--no-contact-sheet", action="store_true", help="do not write contact_sheet.png")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--allow-inside-repo", action="store_true", help="allow --out inside the repository")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the evaluation from parsed arguments; 0 on success, 1 if some cases were skipped, 2 on bad input."""
    try:
        res = evaluate_real(
            args.data,
            args.out,
            bundle=args.bundle,
            weights=args.weights,
            layout=args.layout,
            image_pattern=args.image_pattern,
            mask_pattern=args.mask_pattern,
            mask_folder=args.mask_folder,
            ids=None if args.ids is None else [s.strip() for s in args.ids.split(",") if s.strip()],
            n_holdout=args.n_holdout,
            holdout_seed=args.holdout_seed,
            device=args.device,
            min_component_size=args.min_size,
            frangi_sigmas=None if args.frangi_sigmas is None else [float(s) for s in args.frangi_sigmas.split(",")],
            zoom=args.zoom,
            appearance=args.appearance,
            bundle_overrides=parse_config_overrides(args.overrides, args.bundle),
            contact_sheet=not args.no_contact_sheet,
            overwrite=args.overwrite,
            allow_inside_repo=args.allow_inside_repo,
        )
    except (AngioInputError, FileExistsError, FileNotFoundError, RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 2
    skipped = res["summary"].get("skipped", [])
    for x in skipped:
        print(f"skipped case {x['case']}: {x['error']}", file=sys.stderr, flush=True)
    return 1 if skipped else 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``evaluate`` sub-command to an ``argparse`` sub-parsers object."""
    p = subparsers.add_parser(
        "evaluate",
        help="score a bundle (and a Frangi baseline) on images with expert vessel masks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Stand-alone entry point (``benchmarks/evaluate_real.py``); ``monai-angio evaluate`` is the same command."""
    p = argparse.ArgumentParser(prog="evaluate_real.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    return run(add_arguments(p).parse_args(argv))
