"""``monai-angio qca``: catheter-calibrated quantitative coronary angiography of one angiogram.

Example::

    monai-angio qca case_000.png --mask case_000_label.png --catheter 6F --out qca_out
    monai-angio qca run.dcm --mask run_labels.nii.gz --frame 12 --start 40,60 --end 180,200 --out qca_out

The mask is a 0/1/2 label map (artery 1, catheter 2) in PNG or NIfTI (a cine label map selects
``--frame``). Calibration: ``--mm-per-px`` if given, else the catheter (``--catheter``, default 6F), else
the DICOM geometry of the image, else, only with ``--approximate-scale``, the widest artery taken to be 4.2 mm
wide (a left main or proximal RCA; millimetres then approximate, %DS unaffected). Without ``--start/--end`` the
path through the tightest narrowing of the major vessels (origin >= 2 mm) is analysed. Writes
``<stem>_report.json`` and ``<stem>_report.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.utils.privacy import scrub_paths

__all__ = ["register", "run", "load_2d", "parse_point", "check_point", "check_snap", "qca_file"]

#: a --start/--end point may lie at most this far from the vessel centreline it is snapped to
MAX_SNAP_MM = 3.0
#: the same limit in pixels, when the calibration is unusable
MAX_SNAP_PX = 15.0


def parse_point(text: str) -> Tuple[float, float]:
    """Parse ``"R,C"`` (row, column) into a tuple of floats."""
    try:
        r, c = (float(v) for v in str(text).replace(" ", "").split(","))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a point as ROW,COL, got {text!r}") from e
    return r, c


def load_2d(path: str, frame: int = 0, what: str = "image") -> Tuple[np.ndarray, Dict[str, Any]]:
    """Load one frame of an angiogram or label map as ``(H, W)`` plus its metadata.

    Uses :func:`monai_angio.transforms.read_angiogram` (every format ``LoadAngiogram`` reads).

    Raises:
        AngioInputError: missing or unreadable file, or ``frame`` out of range.
    """
    p = Path(path)
    if not p.exists():
        raise AngioInputError(f"{what} file not found", str(p))
    from monai_angio.transforms import read_angiogram

    arr, meta = read_angiogram(p)
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[None]
    if not 0 <= frame < arr.shape[0]:
        raise AngioInputError(f"frame {frame} out of range: the {what} has {arr.shape[0]} frame(s)", str(p))
    return np.asarray(arr[frame], dtype=np.float64), dict(meta)


def check_point(name: str, point: Sequence[float], shape: Sequence[int], filename: Optional[str]) -> None:
    """Refuse a ``--start``/``--end`` point outside an image of ``shape`` ``(H, W)``, naming the point and size."""
    h, w = int(shape[0]), int(shape[1])
    r, c = float(point[0]), float(point[1])
    if not (np.isfinite(r) and np.isfinite(c) and 0 <= r <= h - 1 and 0 <= c <= w - 1):
        raise AngioInputError(
            f"--{name} point ({r:g}, {c:g}) is outside the image: it has {h} x {w} px (rows 0-{h - 1}, columns "
            f"0-{w - 1}); points are ROW,COL",
            filename,
        )


def check_snap(
    name: str, point: Sequence[float], snapped: Sequence[float], mm_per_px: float, filename: Optional[str]
) -> None:
    """Refuse a point snapped farther than :data:`MAX_SNAP_MM` (:data:`MAX_SNAP_PX` uncalibrated) to the vessel."""
    d_px = float(np.hypot(float(point[0]) - float(snapped[0]), float(point[1]) - float(snapped[1])))
    calibrated = bool(np.isfinite(mm_per_px) and mm_per_px > 0)
    limit_px = MAX_SNAP_MM / mm_per_px if calibrated else MAX_SNAP_PX
    if d_px > limit_px:
        dist = f"{d_px * mm_per_px:.1f} mm ({d_px:.0f} px)" if calibrated else f"{d_px:.0f} px"
        limit = f"{MAX_SNAP_MM:g} mm" if calibrated else f"{MAX_SNAP_PX:g} px"
        raise AngioInputError(
            f"--{name} point ({float(point[0]):g}, {float(point[1]):g}) is {dist} from the nearest vessel centreline "
            f"pixel ({int(snapped[0])}, {int(snapped[1])}), more than {limit}: place it on the vessel",
            filename,
        )


def qca_file(
    image_path: Optional[str],
    mask_path: str,
    catheter: Any = 6,
    start: Optional[Sequence[float]] = None,
    end: Optional[Sequence[float]] = None,
    out_dir: Optional[str] = None,
    overwrite: bool = False,
    mm_per_px: Optional[float] = None,
    frame: int = 0,
    method: str = "edge",
    min_origin_diameter_mm: float = 2.0,
    max_gap_mm: float = 5.0,
    record_input_path: bool = False,
    anonymous_name: Optional[str] = None,
    approximate_scale: bool = False,
):
    """QCA of one image + label map; writes the report when ``out_dir`` is given.

    ``approximate_scale``: without a catheter or DICOM geometry, scale by the widest artery
    (:func:`~monai_angio.qca.calibration.calibrate_from_artery_width`) instead of refusing.

    The report records the input's file name only (``record_input_path=True``: the path as given); with
    ``anonymous_name`` the outputs are ``<anonymous_name>_report.*`` and no input name appears in them.

    Returns:
        ``(StenosisReport, paths or None)``.
    """
    from monai_angio.qca import WIDEST_ARTERY_MM, analyze_stenosis, calibrate, parse_french, write_report
    from monai_angio.qca.edges import check_vessels_dark

    from monai_angio.errors import CalibrationError

    label, _ = load_2d(mask_path, frame=frame, what="mask")
    label = np.rint(label)
    vals = set(np.unique(label).astype(int).tolist())
    binary_255 = False
    if not vals <= {0, 1, 2}:
        if vals <= {0, 255}:
            label = (label > 0).astype(np.float64)
            binary_255 = True
        else:
            raise AngioInputError(
                f"mask must be a 0/1/2 label map (artery 1, catheter 2), found values {sorted(vals)[:10]}", mask_path
            )
    image, meta = (None, {}) if image_path is None else load_2d(image_path, frame=frame, what="image")
    if image is not None and image.shape != label.shape:
        raise AngioInputError(f"image shape {image.shape} differs from mask shape {label.shape}", mask_path)
    name = str(image_path or mask_path)
    for what, point in (("start", start), ("end", end)):
        if point is not None:
            check_point(what, point, label.shape, name)
    if image is not None:  # refused before calibrating: an inverted image would fail there with a less clear reason
        check_vessels_dark(image, label > 0, name)
    french = parse_french(catheter) if catheter is not None else None
    note_255 = (
        "the mask holds 0/255 values: 255 is not a label, so it was read as artery (1) and there is no "
        "catheter (2); give a 0/1/2 label map or --mm-per-px"
    )
    try:
        cal = calibrate(
            label=label.astype(np.uint8),
            meta=meta or None,
            french=french,
            user_mm_per_px=mm_per_px,
            image=image,
            filename=mask_path,
            widest_artery_mm=WIDEST_ARTERY_MM if approximate_scale else None,
        )
    except CalibrationError as e:
        if binary_255:
            raise CalibrationError(f"{e.problem}; {note_255}", mask_path) from e
        if not approximate_scale:
            raise CalibrationError(
                f"{e.problem}; give --mm-per-px MM, or --approximate-scale to take the widest artery as "
                f"{WIDEST_ARTERY_MM:g} mm wide",
                mask_path,
            ) from e
        raise
    if binary_255 and mm_per_px is None:
        cal.details.setdefault("warnings", []).append(note_255)
    rep = analyze_stenosis(
        label.astype(np.uint8),
        image=image,
        calibration=cal,
        start_rc=start,
        end_rc=end,
        method=method,
        min_origin_diameter_mm=min_origin_diameter_mm,
        filename=name,
        max_gap_mm=max_gap_mm,
    )
    # the report's warnings hold everything its reader should know, the calibration's too (also kept in its details)
    rep.warnings = [*rep.warnings, *(f"calibration: {w}" for w in cal.details.get("warnings", []))]
    if start is not None and end is not None:
        path_rc = np.asarray(rep.profile.path_rc, dtype=float)
        check_snap("start", start, path_rc[0], float(cal.mm_per_px), name)
        check_snap("end", end, path_rc[-1], float(cal.mm_per_px), name)
    if anonymous_name:
        if Path(anonymous_name).name != anonymous_name or anonymous_name in (".", ".."):
            raise ValueError(f"--anonymous-name must be a plain file stem, got {anonymous_name!r}")
        rep.filename = None
    elif not record_input_path:
        rep.filename = Path(name).name
    if anonymous_name or not record_input_path:  # no input path (nor, anonymous, input name) in any written text
        inputs = [p for p in (image_path, mask_path) if p is not None]
        shown = [anonymous_name or Path(p).name for p in inputs]
        rep.warnings = scrub_paths(rep.warnings, inputs, shown, name_too=bool(anonymous_name))
        cal.details = scrub_paths(cal.details, inputs, shown, name_too=bool(anonymous_name))
    paths = None
    if out_dir is not None:
        stem = anonymous_name or Path(name).name.split(".")[0]
        paths = write_report(rep, image, label.astype(np.uint8), out_dir, overwrite=overwrite, stem=stem)
    return rep, paths


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``qca`` sub-command."""
    p = subparsers.add_parser(
        "qca",
        help="catheter-calibrated QCA (MLD, reference diameter, %%DS, %%AS, lesion length)",
        description=(
            "Quantitative coronary angiography on an angiogram and its artery/catheter label map: "
            "calibrates mm/px from the catheter (or DICOM geometry), measures the diameter profile along a "
            "vessel and reports MLD, interpolated reference diameter, %DS, %AS and lesion length."
        ),
    )
    p.add_argument(
        "image", metavar="IMAGE", help="angiogram (PNG/TIFF/DICOM/NIfTI/...); used for display and DICOM geometry"
    )
    p.add_argument("--mask", required=True, help="label map 0/1/2 (artery 1, catheter 2), PNG or NIfTI")
    p.add_argument("--catheter", default="6F", help="catheter size, e.g. 6F or 6 (default 6F)")
    p.add_argument(
        "--start", type=parse_point, default=None, metavar="R,C", help="start point (row,col) of the segment"
    )
    p.add_argument("--end", type=parse_point, default=None, metavar="R,C", help="end point (row,col) of the segment")
    p.add_argument("--out", default=None, help="output folder for <stem>_report.json / .png")
    p.add_argument("--overwrite", action="store_true", help="replace existing report files")
    p.add_argument(
        "--record-input-path", action="store_true", help="keep the input's path in the report (default: file name)"
    )
    p.add_argument(
        "--anonymous-name", default=None, metavar="STEM",
        help="write STEM_report.json/.png and keep no input name in the report (e.g. case0001)",
    )
    p.add_argument("--mm-per-px", type=float, default=None, help="override the calibration (mm per pixel)")
    p.add_argument(
        "--approximate-scale", action="store_true",
        help="without a catheter or DICOM geometry, take the widest artery as 4.2 mm wide (left main / proximal "
        "RCA; millimetres good to about 15 %%, %%DS unaffected) instead of refusing",
    )
    p.add_argument("--frame", type=int, default=0, help="frame of a cine (default 0)")
    p.add_argument(
        "--method", choices=("edge", "mask", "image"), default="edge",
        help="edge (default): vessel borders found in the image, the mask only guides (mask boundary as the "
        "flagged fallback); mask: the mask boundary; image: plain gradient maxima",
    )
    p.add_argument(
        "--min-origin-mm", type=float, default=2.0, help="clinical filter for the automatic path (default 2 mm)"
    )
    p.add_argument(
        "--max-gap-mm", type=float, default=5.0,
        help="with an image: bridge end-to-end mask gaps up to this size through the image (0 = off; default 5 mm)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``qca``; 0 on success, 1 on bad input / calibration failure, 3 if outputs exist."""
    if (args.start is None) != (args.end is None):
        print("error: give both --start and --end, or neither", file=sys.stderr)
        return 1
    try:
        rep, paths = qca_file(
            args.image,
            args.mask,
            catheter=args.catheter,
            start=args.start,
            end=args.end,
            out_dir=args.out,
            overwrite=args.overwrite,
            mm_per_px=args.mm_per_px,
            frame=args.frame,
            method=args.method,
            min_origin_diameter_mm=args.min_origin_mm,
            max_gap_mm=args.max_gap_mm,
            record_input_path=args.record_input_path,
            anonymous_name=args.anonymous_name,
            approximate_scale=args.approximate_scale,
        )
    except FileExistsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except (AngioInputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    cal = rep.calibration
    how = cal.source + (", guidewire modelled" if cal.details.get("width_source") == "image+guidewire" else "")
    print(f"calibration : {cal.mm_per_px:.4f} mm/px ({how})")
    r, c = rep.mld_rc
    print(f"MLD         : {rep.mld_mm:.2f} mm at {rep.mld_position_mm:.1f} mm (row {r:.0f}, col {c:.0f})")
    print(f"reference   : {rep.reference_diameter_mm:.2f} mm")
    print(f"stenosis    : {rep.percent_diameter_stenosis:.1f} % diameter, {rep.percent_area_stenosis:.1f} % area")
    span = f"{rep.lesion_start_mm:.1f}-{rep.lesion_end_mm:.1f} mm along the path"
    print(f"lesion      : {rep.lesion_length_mm:.1f} mm ({span})")
    for w in rep.warnings:
        print(f"warning     : {w}", file=sys.stderr)
    if paths:
        print(f"report      : {paths['json']} , {paths['png']}")
    return 0
