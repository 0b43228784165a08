"""Evaluate a segmentation bundle on real angiograms with binary vessel masks, next to a Frangi baseline.

The engine of ``monai-angio evaluate`` (:mod:`monai_angio.apps.evaluate`) and of ``benchmarks/evaluate_real.py``.
The images and masks are paired by :func:`monai_angio.data.folder_datalist` (file name patterns) or
:func:`monai_angio.data.dca1_datalist` (the DCA1 / CIMAT layout). ``n_holdout`` / ``holdout_seed`` select the cases
that :func:`monai_angio.data.split_datalist` holds back with the same numbers, so that a model trained on the rest
is measured only on images it never saw.

For every image the bundle runs through ``load_bundle(name, device, weights).predict(frames)`` on the raw
``(1, H, W)`` frame (with the bundle's own small-component removal, as ``monai-angio segment`` does), and the
training-free :func:`monai_angio.transforms.frangi_segment` baseline runs on the same frame. Both are compared with
``mask > 0``: model label 1 (artery) or Frangi's vessel label against the vessel mask, giving Dice, precision,
recall, clDice, width excess and the number of connected components; for the model also whether a catheter
(label 2) was found and its pixel count. The masks of public data sets label thin branches too, and no catheter.

Outputs (nothing is overwritten unless asked; each file is written atomically): ``per_image.csv``,
``summary.json`` (mean / median / min / max of every metric, images with Dice < 0.4 and < 0.3, model minus Frangi
mean Dice) and, with a ``contact_sheet_writer`` (e.g. :func:`monai_angio.apps.evaluate.save_contact_sheet`),
``contact_sheet.png`` of the best, median and worst image by model Dice.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from monai_angio.bundle.diagnostics import diagnostic_value
from monai_angio.bundle.locate import DEFAULT_BUNDLE, PathLike
from monai_angio.data import arcade_datalist, dca1_datalist, folder_datalist, holdout_ids, read_gray, read_mask
from monai_angio.data.real import DEFAULT_IMAGE_PATTERN, DEFAULT_MASK_PATTERN, case_ids
from monai_angio.errors import AngioInputError
from monai_angio.metrics import cldice, connected_component_count, overlap_metrics, width_excess_px
from monai_angio.transforms import RemoveSmallComponents, default_sigmas, frangi_segment
from monai_angio.utils import atomic_write

__all__ = [
    "DEFAULT_BUNDLE",
    "CSV_COLUMNS",
    "SUMMARY_METRICS",
    "REPO_ROOT",
    "evaluate_real",
    "zoom_case",
    "image_metrics",
    "summarize",
    "format_table",
    "order_cases",
    "LAYOUTS",
]

#: the source tree (or installation) that holds the package; real-data results must not be written into it
REPO_ROOT = Path(__file__).resolve().parents[2]

#: per-image CSV columns, in order.
CSV_COLUMNS = (
    "case",
    "image",
    "label",
    "height",
    "width",
    "gt_px",
    "gt_components",
    "model_dice",
    "model_precision",
    "model_recall",
    "model_cldice",
    "model_width_excess_px",
    "model_artery_px",
    "model_components",
    "model_catheter_found",
    "model_catheter_px",
    "frangi_dice",
    "frangi_precision",
    "frangi_recall",
    "frangi_cldice",
    "frangi_width_excess_px",
    "frangi_px",
    "frangi_components",
    "dice_model_minus_frangi",
    "model_s",
    "frangi_s",
    "noise_sigma",
    "vessel_polarity",
)
#: columns summarised (mean / median / min / max) in ``summary.json``.
SUMMARY_METRICS = (
    "model_dice",
    "model_precision",
    "model_recall",
    "model_cldice",
    "model_width_excess_px",
    "model_components",
    "model_catheter_px",
    "frangi_dice",
    "frangi_precision",
    "frangi_recall",
    "frangi_cldice",
    "frangi_width_excess_px",
    "frangi_components",
    "dice_model_minus_frangi",
    "gt_components",
    "model_s",
    "frangi_s",
    "noise_sigma",
    "vessel_polarity",
)
DICE_LIMITS = (0.4, 0.3)
#: data layouts: a folder of ``{n}.png`` + ``{n}_gt.png`` (patterns), the DCA1 / CIMAT folder, an ARCADE COCO json
LAYOUTS = ("folder", "dca1", "arcade")


def _log(msg: str) -> None:
    print(msg, flush=True)


def image_metrics(pred: np.ndarray, truth: np.ndarray) -> Dict[str, float]:
    """Dice, precision, recall, clDice, width excess, pixel and component counts of one binary prediction.

    Args:
        pred: ``(H, W)`` bool prediction.
        truth: ``(H, W)`` bool vessel mask.

    Returns:
        ``{"dice", "precision", "recall", "cldice", "width_excess_px", "px", "components"}``; ``width_excess_px``
        (:func:`~monai_angio.metrics.width_excess_px`): predicted minus true vessel width along the shared
        centreline, > 0 when the prediction draws vessels wider than the annotators.
    """
    pred = np.asarray(pred, bool)
    truth = np.asarray(truth, bool)
    ov = overlap_metrics(pred, truth)
    return {
        "dice": float(ov["dice"]),
        "precision": float(ov["precision"]),
        "recall": float(ov["recall"]),
        "cldice": float(cldice(pred, truth)),
        "width_excess_px": float(width_excess_px(pred, truth)),
        "px": int(pred.sum()),
        "components": int(connected_component_count(pred)),
    }


def _select(
    items: List[Dict[str, Any]],
    ids: Optional[Sequence[str]],
    n_holdout: Optional[int],
    holdout_seed: int,
) -> List[Dict[str, Any]]:
    if ids is not None and n_holdout is not None:
        raise AngioInputError("give --ids or --n-holdout, not both")
    if ids is not None:
        wanted = [str(i) for i in ids]
        known = set(case_ids(items))
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise AngioInputError(f"unknown case id(s) {', '.join(unknown)} (known: {', '.join(case_ids(items))})")
        keep = set(wanted)
        return [it for it in items if str(it["case"]) in keep]
    if n_holdout is not None:
        keep = set(holdout_ids(case_ids(items), n_holdout, holdout_seed))
        return [it for it in items if str(it["case"]) in keep]
    return list(items)


def _stats(values: Sequence[float]) -> Dict[str, float]:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return {"mean": float("nan"), "median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"mean": float(v.mean()), "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def order_cases(rows: Sequence[Dict[str, Any]], key: str = "model_dice") -> Dict[str, Dict[str, Any]]:
    """Best, median and worst row by ``key`` (median: the lower middle of the sorted rows)."""
    if not rows:
        return {}
    srt = sorted(rows, key=lambda r: (r[key], str(r["case"])))
    return {"best": srt[-1], "median": srt[(len(srt) - 1) // 2], "worst": srt[0]}


def summarize(rows: Sequence[Dict[str, Any]], config: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Summary of the per-image rows: statistics of :data:`SUMMARY_METRICS`, counts below the Dice limits.

    Args:
        rows: per-image dicts with the :data:`CSV_COLUMNS`.
        config: run settings stored under ``"config"``.

    Returns:
        ``{"n_images", "cases", "metrics": {col: {mean, median, min, max}}, "counts": {...},
        "model_minus_frangi_mean_dice", "best_median_worst": {...}, "config"}``.
    """
    metrics = {k: _stats([r[k] for r in rows]) for k in SUMMARY_METRICS}
    counts: Dict[str, int] = {}
    for who in ("model", "frangi"):
        for lim in DICE_LIMITS:
            counts[f"{who}_dice_lt_{lim}"] = int(sum(r[f"{who}_dice"] < lim for r in rows))
    counts["model_catheter_found"] = int(sum(bool(r["model_catheter_found"]) for r in rows))
    counts["model_better_than_frangi"] = int(sum(r["model_dice"] > r["frangi_dice"] for r in rows))
    picks = order_cases(rows)
    return {
        "n_images": len(rows),
        "cases": [str(r["case"]) for r in rows],
        "metrics": metrics,
        "counts": counts,
        "model_minus_frangi_mean_dice": metrics["model_dice"]["mean"] - metrics["frangi_dice"]["mean"],
        "best_median_worst": {k: {"case": str(r["case"]), "model_dice": r["model_dice"]} for k, r in picks.items()},
        "config": dict(config or {}),
    }


def format_table(summary: Dict[str, Any]) -> str:
    """Markdown table: model and Frangi side by side (mean / median / min / max), then the counts."""
    m = summary["metrics"]
    lines = [
        f"{summary['n_images']} image(s); bundle {summary['config'].get('bundle')}, "
        f"weights {summary['config'].get('weights')}"
        + (f"; zoom {summary['config']['zoom']:g}" if summary["config"].get("zoom", 1.0) != 1.0 else "")
        + (f"; appearance {summary['config']['appearance']}"
           if summary["config"].get("appearance", "none") != "none" else ""),
        "",
        "| metric | model mean | median | min | max | Frangi mean | median | min | max |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("dice", "precision", "recall", "cldice", "width_excess_px", "components"):
        a, b = m[f"model_{name}"], m[f"frangi_{name}"]
        fmt = {"components": "{:.0f}", "width_excess_px": "{:+.2f}"}.get(name, "{:.3f}")
        cells = [fmt.format(a[s]) for s in ("mean", "median", "min", "max")]
        cells += [fmt.format(b[s]) for s in ("mean", "median", "min", "max")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    c = summary["counts"]
    n = summary["n_images"]
    lines += [
        "",
        f"model minus Frangi mean Dice: {summary['model_minus_frangi_mean_dice']:+.3f} "
        f"(model better on {c['model_better_than_frangi']}/{n})",
        f"Dice < 0.4: model {c['model_dice_lt_0.4']}/{n}, Frangi {c['frangi_dice_lt_0.4']}/{n}; "
        f"Dice < 0.3: model {c['model_dice_lt_0.3']}/{n}, Frangi {c['frangi_dice_lt_0.3']}/{n}",
        f"catheter (label 2) found in {c['model_catheter_found']}/{n} image(s), "
        f"mean {m['model_catheter_px']['mean']:.0f} px; ground-truth components mean {m['gt_components']['mean']:.1f}",
    ]
    bmw = summary.get("best_median_worst", {})
    if bmw:
        lines.append(
            "best / median / worst (model Dice): "
            + ", ".join(f"{k} {v['case']} ({v['model_dice']:.3f})" for k, v in bmw.items())
        )
    return "\n".join(lines)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def zoom_case(image: np.ndarray, mask: np.ndarray, zoom: float) -> Tuple[np.ndarray, np.ndarray]:
    """Resize an image (bicubic, clipped to its own range) and its binary mask (bilinear, > 0.5) by ``zoom``.

    The output size is ``round(side * zoom)`` per axis; both stay pixel-centred (``align_corners=False``), so the
    mask stays on its vessel. Used to measure how a model copes with vessels of other widths in pixels than the
    data set has (a scale robustness check, not a preprocessing step of the bundle). Unlike the training sampler's
    :func:`~monai_angio.data.mixed.zoom_image_and_label`, which must keep coded labels (nearest-exact), the binary
    mask is resampled bilinearly and thresholded, so upsampled vessel edges stay smooth instead of blocky.

    Args:
        image: ``(H, W)`` grey image.
        mask: ``(H, W)`` binary vessel mask.
        zoom: scale factor (> 0).

    Returns:
        ``(image float32, mask bool)`` of size ``(round(H * zoom), round(W * zoom))``.
    """
    import torch

    size = [max(1, int(round(s * zoom))) for s in image.shape]
    x = torch.as_tensor(np.asarray(image, np.float32))[None, None]
    m = torch.as_tensor(np.asarray(mask, np.float32))[None, None]
    lo, hi = float(x.min()), float(x.max())
    xi = torch.nn.functional.interpolate(x, size=size, mode="bicubic", align_corners=False).clamp(lo, hi)
    mi = torch.nn.functional.interpolate(m, size=size, mode="bilinear", align_corners=False) > 0.5
    return xi[0, 0].numpy(), mi[0, 0].numpy()


def _appearance(appearance: Optional[Any]) -> Any:
    """``appearance`` of :func:`evaluate_real` as an :class:`~monai_angio.transforms.AcquisitionShift`."""
    from monai_angio.transforms import AcquisitionShift, parse_acquisition_shift

    if isinstance(appearance, AcquisitionShift):
        return appearance
    if appearance is not None and not isinstance(appearance, str):
        raise AngioInputError(f"appearance must be an AcquisitionShift or 'name=value,...' text, got {appearance!r}")
    try:
        return parse_acquisition_shift(appearance)
    except ValueError as e:
        raise AngioInputError(str(e)) from None


def _list_cases(
    data: Path,
    layout: str,
    image_pattern: str,
    mask_pattern: str,
    mask_folder: Optional[PathLike],
    stack: contextlib.ExitStack,
) -> List[Dict[str, Any]]:
    """Image/mask pairs of ``data`` in ``layout``; sizes are checked per case by the caller (a bad case is skipped)."""
    if layout == "dca1":
        return dca1_datalist(data, missing_mask="warn", check_sizes=False)
    if layout == "folder":
        return folder_datalist(
            data,
            image_pattern=image_pattern,
            mask_pattern=mask_pattern,
            mask_folder=mask_folder,
            missing_mask="warn",
            check_sizes=False,
        )
    if layout == "arcade":
        masks = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="monai_angio_arcade_")))
        return arcade_datalist(data, masks / "masks")
    raise AngioInputError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def _diagnostic(model: Any, key: str, reduce: Callable[[Any], float]) -> Optional[float]:
    """:func:`~monai_angio.bundle.diagnostics.diagnostic_value`, rounded for the CSV."""
    value = diagnostic_value(model, key, reduce)
    return None if value is None else round(value, 4)


def evaluate_real(
    data: PathLike,
    out_dir: PathLike,
    bundle: str = DEFAULT_BUNDLE,
    weights: Optional[PathLike] = None,
    model: Optional[Any] = None,
    layout: str = "folder",
    image_pattern: str = DEFAULT_IMAGE_PATTERN,
    mask_pattern: str = DEFAULT_MASK_PATTERN,
    mask_folder: Optional[PathLike] = None,
    ids: Optional[Sequence[str]] = None,
    n_holdout: Optional[int] = None,
    holdout_seed: int = 0,
    device: str = "cpu",
    min_component_size: Optional[int] = None,
    frangi_sigmas: Optional[Sequence[float]] = None,
    zoom: float = 1.0,
    appearance: Optional[Any] = None,
    bundle_overrides: Optional[Dict[str, Any]] = None,
    contact_sheet_writer: Optional[Callable[..., Any]] = None,
    overwrite: bool = False,
    allow_inside_repo: bool = False,
    log: Optional[Callable[[str], None]] = _log,
) -> Dict[str, Any]:
    """Evaluate a bundle and the Frangi baseline on a folder of images + binary vessel masks.

    Args:
        data: folder of images and masks.
        out_dir: output folder (created); must not be the data folder, nor (unless ``allow_inside_repo``) inside
            this repository.
        bundle: bundle name or folder for :func:`monai_angio.bundle.runner.load_bundle`.
        weights: checkpoint instead of the bundle's ``models/model.pt``.
        model: an already loaded model (anything with ``predict((T, H, W) float array) -> (T, H, W) labels``,
            e.g. a :class:`~monai_angio.bundle.runner.BundleRunner` or a test stub); then ``bundle`` and
            ``weights`` only label the outputs.
        layout: one of :data:`LAYOUTS`: ``"folder"`` (:func:`~monai_angio.data.folder_datalist` with the
            patterns), ``"dca1"`` (:func:`~monai_angio.data.dca1_datalist`) or ``"arcade"`` (``data`` is an ARCADE
            COCO json; :func:`~monai_angio.data.arcade_datalist` fills every SYNTAX segment polygon of an image
            into one vessel mask, in a temporary folder removed afterwards; the case id is the image's file stem).
        image_pattern: image file name pattern (``{n}`` = case id) for ``layout="folder"``.
        mask_pattern: mask file name pattern.
        mask_folder: folder of the masks when not ``data``.
        ids: evaluate only these case ids.
        n_holdout: evaluate only the ``n_holdout`` cases held back by ``holdout_seed``
            (:func:`~monai_angio.data.split_datalist` / :func:`~monai_angio.data.holdout_ids`).
        holdout_seed: seed of the hold-out.
        device: torch device of the model.
        min_component_size: remove model components smaller than this (px); None: the bundle's own setting.
        frangi_sigmas: Frangi scales (px); None: :func:`~monai_angio.transforms.default_sigmas` per image.
        zoom: resize every image and its mask by this factor before evaluating (:func:`zoom_case`), e.g.
            ``512 / 300`` to see 300 px data with vessels as wide in pixels as a 512 px system shows them; 1: as read.
        appearance: an acquisition shift applied to every image after the zoom, to see the model under another
            cath lab's image chain (gamma, noise, blur, edge enhancement, bit depth, JPEG, exposure ramp): an
            :class:`~monai_angio.transforms.AcquisitionShift` or its ``"name=value,..."`` text
            (:func:`~monai_angio.transforms.parse_acquisition_shift`); None: as read. Frangi sees the same image.
        bundle_overrides: config id -> value overrides of the bundle's inference config (e.g.
            ``{"noise_threshold_sigma": 0.04}``); ignored when ``model`` is given.
        contact_sheet_writer: ``writer(path, panels, title=..., overwrite=...)`` that draws ``contact_sheet.png``
            from the best, median and worst case (e.g. :func:`monai_angio.apps.evaluate.save_contact_sheet`);
            None: no contact sheet.
        overwrite: replace existing outputs.
        allow_inside_repo: allow ``out_dir`` inside the repository (synthetic data only).
        log: progress printer (None: silent).

    Returns:
        ``{"rows": [per-image dicts], "summary": summary dict, "table": str, "outputs": {kind: path}}``; cases
        that could not be read or segmented (:class:`~monai_angio.errors.AngioInputError`) are left out, listed in
        ``summary["skipped"]`` as ``{"case", "error"}`` and named in the table.

    Raises:
        AngioInputError: bad data folder, patterns, ids, hold-out or output folder, or no case could be evaluated.
        FileExistsError: an output exists and ``overwrite`` is False.
    """
    say = log or (lambda _m: None)
    if not (np.isfinite(zoom) and 0.1 <= zoom <= 10.0):
        raise AngioInputError(f"zoom must be a number in [0.1, 10], got {zoom!r}")
    shift = _appearance(appearance)
    data = Path(data).expanduser().resolve()
    out = Path(out_dir).expanduser().resolve()
    if out == data or (mask_folder is not None and out == Path(mask_folder).resolve()):
        raise AngioInputError("the output folder must not be the data folder", out)
    if not allow_inside_repo and _inside(out, REPO_ROOT):
        raise AngioInputError(
            f"output folder is inside the repository {REPO_ROOT}; results of real images must not be committed "
            "(choose e.g. /tmp/..., or pass allow_inside_repo / --allow-inside-repo for synthetic data)",
            out,
        )
    outputs = {"csv": out / "per_image.csv", "summary": out / "summary.json"}
    contact_sheet = contact_sheet_writer is not None
    if contact_sheet:
        outputs["contact_sheet"] = out / "contact_sheet.png"
    if not overwrite:
        for p in outputs.values():
            if p.exists():
                raise FileExistsError(f"{p}: exists; refusing to overwrite (use --overwrite)")

    with contextlib.ExitStack() as stack:  # an ARCADE json's masks are rasterised into a folder removed at the end
        items = _list_cases(data, layout, image_pattern, mask_pattern, mask_folder, stack)
        if not items:
            raise AngioInputError("no image/mask pairs found", data)
        items = _select(items, ids, n_holdout, holdout_seed)
        if not items:
            raise AngioInputError("no image selected for evaluation", data)

        t0 = time.perf_counter()
        if model is None:
            from monai_angio.bundle.runner import load_bundle

            model = load_bundle(bundle, device=device, weights=weights, **(bundle_overrides or {}))
            say(
                f"loaded bundle {getattr(model, 'name', bundle)} weights {getattr(model, 'weights', weights)} "
                f"({time.perf_counter() - t0:.1f} s)"
            )
        bundle_name = str(getattr(model, "name", bundle))
        weights_used = getattr(model, "weights", weights)
        min_size = int(getattr(model, "min_component_size", 0) if min_component_size is None else min_component_size)
        remover = RemoveSmallComponents(min_size=min_size) if min_size > 0 else None

        rows: List[Dict[str, Any]] = []
        keep: Dict[str, Dict[str, Any]] = {}
        n = len(items)
        say(f"evaluating {n} image(s) from {data} -> {out}")
        skipped: List[Dict[str, str]] = []
        for k, it in enumerate(items, 1):
            try:
                img = read_gray(it["image"])
                truth = read_mask(it["label"])
                if truth.shape != img.shape:
                    raise AngioInputError(f"mask is {truth.shape} but the image is {img.shape}", it["label"])
                if zoom != 1.0:
                    img, truth = zoom_case(img, truth, zoom)
                if not shift.is_identity:
                    img = np.asarray(shift(img), np.float32)
                t1 = time.perf_counter()
                labels = np.asarray(model.predict(img[None].astype(np.float32)))
                if labels.shape != (1,) + img.shape:
                    raise AngioInputError(f"model returned shape {labels.shape} for a {img.shape} image", it["image"])
            except AngioInputError as e:  # a bad case is reported and left out; the others are still scored
                skipped.append({"case": str(it["case"]), "error": str(e)})
                say(f"[{k:>{len(str(n))}}/{n}] skipped: {e}")
                continue
            lab = labels[0].astype(np.uint8)
            if remover is not None:
                lab = np.asarray(remover(lab[None]))[0].astype(np.uint8)
            t2 = time.perf_counter()
            frangi = frangi_segment(img, sigmas=frangi_sigmas).astype(bool)
            t3 = time.perf_counter()
            mm = image_metrics(lab == 1, truth)
            fm = image_metrics(frangi, truth)
            row: Dict[str, Any] = {
                "case": str(it["case"]),
                "image": str(it["image"]),
                "label": str(it["label"]),
                "height": int(img.shape[0]),
                "width": int(img.shape[1]),
                "gt_px": int(truth.sum()),
                "gt_components": int(connected_component_count(truth)),
                "model_dice": mm["dice"],
                "model_precision": mm["precision"],
                "model_recall": mm["recall"],
                "model_cldice": mm["cldice"],
                "model_width_excess_px": mm["width_excess_px"],
                "model_artery_px": mm["px"],
                "model_components": mm["components"],
                "model_catheter_found": bool((lab == 2).any()),
                "model_catheter_px": int((lab == 2).sum()),
                "frangi_dice": fm["dice"],
                "frangi_precision": fm["precision"],
                "frangi_recall": fm["recall"],
                "frangi_cldice": fm["cldice"],
                "frangi_width_excess_px": fm["width_excess_px"],
                "frangi_px": fm["px"],
                "frangi_components": fm["components"],
                "dice_model_minus_frangi": mm["dice"] - fm["dice"],
                "model_s": round(t2 - t1, 4),
                "frangi_s": round(t3 - t2, 4),
                # what the bundle's preprocessing measured (None where it does not): a noisy or inverted image
                # explains a low score
                "noise_sigma": _diagnostic(model, "noise_sigma", max),
                "vessel_polarity": _diagnostic(model, "vessel_polarity", min),
            }
            rows.append(row)
            if contact_sheet:
                keep[row["case"]] = {"image": img, "truth": truth, "model": lab, "frangi": frangi}
            say(
                f"[{k:>{len(str(n))}}/{n}] {Path(it['image']).name}: model Dice {mm['dice']:.3f} "
                f"(P {mm['precision']:.2f} R {mm['recall']:.2f}) clDice {mm['cldice']:.3f} comp {mm['components']}"
                f"{' catheter ' + str(row['model_catheter_px']) + ' px' if row['model_catheter_found'] else ''} | "
                f"Frangi Dice {fm['dice']:.3f} clDice {fm['cldice']:.3f} | {t2 - t1:.1f}+{t3 - t2:.1f} s"
                + (" | looks inverted (vessel_polarity < 0)" if (row["vessel_polarity"] or 0.0) < 0 else "")
            )

        config = {
            "data": str(data),
            "layout": layout,
            "image_pattern": image_pattern if layout == "folder" else "{n}.{pgm,png}",
            "mask_pattern": mask_pattern if layout == "folder" else "{n}_gt.{pgm,png}",
            "ids": None if ids is None else [str(i) for i in ids],
            "n_holdout": n_holdout,
            "holdout_seed": holdout_seed if n_holdout is not None else None,
            "bundle": bundle_name,
            "weights": None if weights_used is None else str(weights_used),
            "device": device,
            "min_component_size": min_size,
            "frangi_sigmas": None if frangi_sigmas is None else [float(s) for s in frangi_sigmas],
            "zoom": float(zoom),
            "appearance": shift.describe(),
            "bundle_overrides": dict(bundle_overrides or {}),
            "frangi_default_sigmas_first_image": [
                float(s) for s in default_sigmas((int(rows[0]["height"]), int(rows[0]["width"])))
            ]
            if frangi_sigmas is None and rows
            else None,
            "truth": "mask > 0 (binary vessel mask, catheter unlabelled); model label 1 compared, label 2 = catheter",
            "seconds": round(time.perf_counter() - t0, 2),
        }
        if not rows:
            raise AngioInputError(
                "no case could be evaluated: " + "; ".join(f"{x['case']}: {x['error']}" for x in skipped), data
            )
        summary = summarize(rows, config)
        summary["skipped"] = skipped
        table = format_table(summary)
        if skipped:
            table += f"\nskipped {len(skipped)} case(s): " + "; ".join(f"{x['case']}: {x['error']}" for x in skipped)

        out.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in r.items()})
        with atomic_write(outputs["csv"], "w", overwrite=overwrite, encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
        with atomic_write(outputs["summary"], "w", overwrite=overwrite, encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")
        if contact_sheet:
            picks = order_cases(rows)
            panels = [dict(name=name, row=r, **keep[r["case"]]) for name, r in picks.items()]
            contact_sheet_writer(
                outputs["contact_sheet"],
                panels,
                title=f"{bundle_name} vs Frangi on {data.name}: best / median / worst by model Dice",
                overwrite=overwrite,
            )
        say(table)
        say("wrote " + ", ".join(str(p) for p in outputs.values()))
        return {"rows": rows, "summary": summary, "table": table, "outputs": outputs}


