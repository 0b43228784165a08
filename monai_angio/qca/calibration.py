"""mm/pixel calibration: from the catheter of known French size, or from DICOM geometry.

The catheter is the only object of known size in a coronary angiogram (``french / 3`` mm outer
diameter). :func:`calibrate_from_catheter` measures its width in pixels on the segmentation:

1. keep the largest connected catheter component, skeletonise it and take its longest centreline path;
2. compute the local curvature of the smoothed centreline and discard the ends (tip at the ostium and
   where it leaves the field of view) and points near the image border; with an image, also the points where the
   catheter does not lie on an even, unclipped background (a collimator blade or an anatomy edge along it, a
   saturated background; :mod:`monai_angio.qca.catheter_profile`);
3. take the longest contiguous low-curvature (straight) run and keep its central 80 %;
4. measure the width there every pixel with the perpendicular mask profile (integral of the bilinearly
   interpolated mask across the catheter, see :mod:`monai_angio.qca.diameter`) and take the 20 %
   trimmed mean (a median would snap to whole pixels on nearly axis-aligned catheters); the
   bias-corrected median of ``2 x EDT`` on the skeleton (``- EDT_SKELETON_BIAS_PX``) is reported as a
   cross-check;
5. with an image and the French size, look for a 0.014" guidewire inside the catheter (a fit of its median profile
   with and without one); where the wire explains the profile, its fit gives the width;
6. ``mm_per_px = (french / 3) / width_px``.

:func:`calibrate_from_dicom` falls back to the DICOM geometry: isocentre spacing
``ImagerPixelSpacing x SOD / SID`` (or ``/ EstimatedRadiographicMagnificationFactor``), then
``ImagerPixelSpacing`` or ``PixelSpacing`` alone (at the detector, i.e. not corrected for the
magnification, which over-states vessel sizes by SID/SOD ~ 1.2-1.5x). The returned
:class:`Calibration` always states its source.

:func:`calibrate_from_artery_width` is the last resort when a frame shows neither a usable catheter nor DICOM
geometry: it assumes that the widest artery in the frame (the left main or the proximal RCA) is
:data:`WIDEST_ARTERY_MM` wide, a population value good to about 10-15 %. That is enough to apply a 2 mm branch
criterion, but millimetres measured with it are approximate, so :func:`calibrate` uses it only when asked
(``widest_artery_mm``; ``monai-angio qca --approximate-scale``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np
from scipy import ndimage

from monai_angio.errors import AngioInputError, CalibrationError
from monai_angio.utils.jsonable import jsonable

from .catheter_profile import (
    GUIDEWIRE_DIAMETER_MM,
    GUIDEWIRE_MAX_MISFIT,
    GUIDEWIRE_MIN_EXPLAINED,
    GUIDEWIRE_SSE_RATIO,
    GUIDEWIRE_WIDTH_RANGE,
    clear_background,
    fit_catheter_with_and_without_wire,
)
from .centerline import VesselGraph, as_binary_mask, vessel_graph
from .diameter import EDT_SKELETON_BIAS_PX, diameter_profile, smooth_path

__all__ = [
    "Calibration",
    "CALIBRATION_SOURCES",
    "parse_french",
    "catheter_width_px",
    "calibrate_from_catheter",
    "calibrate_from_dicom",
    "calibrate_from_artery_width",
    "WIDEST_ARTERY_MM",
    "calibrate",
]

MIN_CATHETER_WIDTH_PX = 2.0
"""A catheter narrower than this in the mask (px) is too coarse to calibrate from (a 6F catheter at 1 mm/px)."""

NARROW_CATHETER_WIDTH_PX = 4.0
"""A catheter measured narrower than this (px) calibrates with a warning: its width is then only a few pixels of
blur. On 60 plain 256 px phantoms (seeds 750000-, flagship-predicted masks) the warned calibrations erred by 4.0 %
(mean absolute), the others by 0.9 %, and 8 of the 9 errors above 5 % were warned (docs/qca.md, "How narrow a
catheter can calibrate")."""

CALIBRATION_SOURCES = ("catheter", "dicom-isocenter", "dicom-imager", "user", "artery-width")

WIDEST_ARTERY_MM = 4.2
"""Lumen diameter (mm) assumed for the widest artery of a frame by :func:`calibrate_from_artery_width`: the left
main (4.5 +- 0.5 mm) or the proximal RCA (3.9 +- 0.6 mm) in Dodge et al., Circulation 1992 (normal arteries at
angiography); the midpoint of the two. The phantom generator draws these roots 3.6-4.6 mm wide."""

WIDEST_ARTERY_PERCENTILE = 98.0
"""Percentile of the bias-corrected ``2 x EDT`` over the centreline taken as the widest artery's diameter: the
maximum sits on junctions and crossings. On 40 development phantoms (plain and cath-lab, 512 px, flagship
masks) the 98th percentile read the widest artery with the smallest spread of the percentiles tried (90-100:
SD 8 % of the truth against 10 % for the 95th and the maximum)."""

MIN_ARTERY_CENTRELINE_PX = 50
"""Fewer centreline pixels than this: too little artery to tell its widest part."""


@dataclass
class Calibration:
    """A pixel size in the plane of the vessels.

    Attributes:
        mm_per_px: millimetres per pixel.
        source: ``"catheter"``, ``"dicom-isocenter"``, ``"dicom-imager"`` or ``"user"``.
        details: how it was obtained (catheter width, French size, DICOM tags used, warnings).
    """

    mm_per_px: float
    source: str
    details: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in CALIBRATION_SOURCES:
            raise ValueError(f"source must be one of {CALIBRATION_SOURCES}, got {self.source!r}")
        if not np.isfinite(self.mm_per_px) or self.mm_per_px <= 0:
            raise CalibrationError(f"invalid mm/px {self.mm_per_px!r} from {self.source}")
        self.mm_per_px = float(self.mm_per_px)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-serialisable dictionary."""
        return jsonable(asdict(self), nan_to_none=True)


#: catheter sizes (French) accepted for calibration: diagnostic and guiding coronary catheters are 4-8F
FRENCH_RANGE = (3.0, 10.0)

#: relative difference between the catheter and the DICOM isocentre calibration above which a warning is given
CALIBRATION_AGREEMENT = 0.10


def parse_french(french: Union[int, float, str]) -> float:
    """Parse a French catheter size: ``6``, ``"6"``, ``"6F"``, ``"6 Fr"`` -> 6.0.

    Raises:
        ValueError: not a number of French, or outside :data:`FRENCH_RANGE` (implausible for a coronary catheter,
            e.g. ``30F`` or ``0F``).
    """
    s = str(french).strip().lower()
    for suffix in ("french", "fr", "f"):
        if s.endswith(suffix):
            s = s[: -len(suffix)].strip()
            break
    try:
        v = float(s)
    except ValueError as e:
        raise ValueError(f"catheter size must look like '6F' or '6', got {french!r}") from e
    lo, hi = FRENCH_RANGE
    if not np.isfinite(v) or not lo <= v <= hi:
        raise ValueError(
            f"catheter size {french!r} is implausible for coronary angiography: expected {lo:g}F to {hi:g}F "
            "(diagnostic and guiding catheters are 4-8F; 6F = 2.00 mm)"
        )
    return v


def _trimmed_mean(x: np.ndarray, trim: float) -> float:
    """Mean of ``x`` without the lowest and highest ``trim`` fraction."""
    x = np.sort(np.asarray(x, float))
    k = int(np.floor(trim * len(x)))
    return float(np.mean(x[k : len(x) - k])) if len(x) > 2 * k else float(np.mean(x))


def _runs(flags: np.ndarray):
    """(start, stop) of contiguous True runs."""
    f = np.concatenate([[False], np.asarray(flags, bool), [False]])
    d = np.diff(f.astype(int))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def catheter_width_px(
    catheter_mask: np.ndarray,
    end_margin: Optional[float] = None,
    border_margin: Optional[float] = None,
    max_curvature: Optional[float] = None,
    min_straight_px: Optional[float] = None,
    central_fraction: float = 0.8,
    trim: float = 0.2,
    image: Optional[np.ndarray] = None,
    filename: Optional[str] = None,
    min_image_fraction: float = 0.5,
    french: Optional[float] = None,
    guidewire_mm: Optional[float] = GUIDEWIRE_DIAMETER_MM,
) -> Dict[str, Any]:
    """Width of the catheter in pixels, measured on its straight segment.

    Args:
        catheter_mask: ``(H, W)`` boolean catheter mask.
        end_margin: arc length (px) discarded at both ends of the centreline (tip/ostium, border exit);
            default ``max(2 x width, 6)``.
        border_margin: points closer than this to the image border are discarded; default ``width``.
        max_curvature: curvature (rad/px) above which a point is not "straight"; default
            ``1 / (8 x width)``, i.e. a radius of curvature of at least 8 catheter widths.
        min_straight_px: minimum length of the straight run; default ``max(3 x width, 12)``.
        central_fraction: fraction of the straight run (centred) used for the measurement.
        trim: fraction trimmed at each end before averaging the widths. A (trimmed) mean rather than a
            median, because a nearly axis-aligned catheter has a digitised width that alternates between
            two whole numbers of pixels; only their mean converges to the true width.
        image: optional image; when given, the catheter borders are found in the image like the vessels'
            (:func:`~monai_angio.qca.edges.image_borders`: continuous minimum-cost borders + blurred-cylinder fit)
            and their trimmed-mean width is ``width_px`` (``width_source="image"``), provided at least
            ``min_image_fraction`` of the profiles were measured from the image; otherwise (and without an
            image) the mask width is used (``width_source="mask"``). ``width_mask_px`` is always reported.
            With an image, the straight segment is also taken only where the catheter lies on an even, unclipped
            background (:func:`~monai_angio.qca.catheter_profile.clear_background`: no collimator blade or
            anatomy edge along it, no saturated background); where no such segment is long enough, the catheter
            cannot calibrate the image (``CalibrationError``).
        filename: file name for error messages.
        min_image_fraction: least fraction of image-measured profiles for the image width to be used.
        french: the catheter's size (French); with ``guidewire_mm`` it lets the image measurement look for a
            guidewire inside the catheter (:func:`~monai_angio.qca.catheter_profile.fit_catheter_profile` on the
            segment's median profile). Where a wire of that diameter explains the profile
            (``GUIDEWIRE_SSE_RATIO``, ``GUIDEWIRE_MIN_EXPLAINED``, ``GUIDEWIRE_MAX_MISFIT``,
            ``GUIDEWIRE_WIDTH_RANGE``), the width is the catheter's outer width of that
            fit (``width_source="image+guidewire"``; ``guidewire`` in the result holds both fits' widths).
        guidewire_mm: the guidewire's diameter (mm; 0.014" by default); ``None`` does not look for one.

    Returns:
        dict with ``width_px`` (trimmed mean perpendicular-profile width), ``width_median_px``, ``width_edt_px`` (median
        ``2 x EDT - EDT_SKELETON_BIAS_PX``), ``width_iqr_px``, ``n_samples``, ``straight_length_px``,
        ``segment_start_rc``, ``segment_end_rc``, ``segment_rc`` (the measured points).

    Raises:
        CalibrationError: no catheter pixels, or no straight segment long enough.
    """
    m = np.asarray(catheter_mask, bool)
    if not m.any():
        raise CalibrationError(
            "no catheter pixels (label 2) in the segmentation; cannot calibrate from the catheter", filename
        )
    lab, n = ndimage.label(m, structure=np.ones((3, 3)))
    if n > 1:
        sizes = ndimage.sum(m, lab, index=np.arange(1, n + 1))
        m = lab == (int(np.argmax(sizes)) + 1)
    g = vessel_graph(m, filename=filename)
    path = g.longest_path()
    if len(path) < 3:
        raise CalibrationError(f"the catheter centreline is only {len(path)} px long; cannot calibrate", filename)
    rough_w = float(np.median(2.0 * g.distance[path[:, 0], path[:, 1]]) - EDT_SKELETON_BIAS_PX)
    if rough_w < MIN_CATHETER_WIDTH_PX:
        raise CalibrationError(
            f"the catheter is only {max(rough_w, 0.0):.1f} px wide in the mask; at least {MIN_CATHETER_WIDTH_PX:g} px "
            "are needed to calibrate from it",
            filename,
        )
    end_margin = max(2.0 * rough_w, 6.0) if end_margin is None else end_margin
    border_margin = rough_w if border_margin is None else border_margin
    max_curvature = 1.0 / (8.0 * rough_w) if max_curvature is None else max_curvature
    min_straight_px = max(3.0 * rough_w, 12.0) if min_straight_px is None else min_straight_px

    pts, s, t = smooth_path(path, step=1.0, sigma=max(2.0, rough_w / 2))
    ang = np.unwrap(np.arctan2(t[:, 0], t[:, 1]))
    curv = np.abs(np.gradient(ang, s)) if len(s) > 2 else np.zeros_like(s)
    if len(curv) > 5:
        curv = ndimage.uniform_filter1d(curv, size=max(3, int(round(rough_w))), mode="nearest")
    h, w = m.shape
    ok = (s >= end_margin) & (s <= s[-1] - end_margin)
    ok &= (pts[:, 0] >= border_margin) & (pts[:, 0] <= h - 1 - border_margin)
    ok &= (pts[:, 1] >= border_margin) & (pts[:, 1] <= w - 1 - border_margin)
    ok &= curv <= max_curvature
    if image is not None:  # calibrate where the catheter lies on an even, unclipped background
        clear, bg_info = clear_background(image, pts, t, rough_w)
        if not any(s[r[1] - 1] - s[r[0]] >= min_straight_px for r in _runs(ok & clear)):
            raise CalibrationError(
                f"no straight catheter segment of {min_straight_px:.0f} px on an even, unclipped background "
                f"({bg_info['clipped']} of {bg_info['points']} centreline points on a clipped (saturated) background, "
                f"{bg_info['uneven']} along a collimator or anatomy edge): the catheter cannot calibrate this image; "
                "use the DICOM geometry or give mm/px",
                filename,
            )
        ok &= clear
    runs = _runs(ok)
    if not runs:
        raise CalibrationError(
            "no straight catheter segment (all of it is curved, at the ends or at the image border)", filename
        )
    a, b = max(runs, key=lambda r: r[1] - r[0])
    run_len = float(s[b - 1] - s[a]) if b - 1 > a else 0.0
    if run_len < min_straight_px:
        raise CalibrationError(
            f"straight catheter segment too short ({run_len:.1f} px < {min_straight_px:.1f} px) to calibrate", filename
        )
    pad = int(round((b - a) * (1.0 - central_fraction) / 2.0))
    a2, b2 = a + pad, max(a + pad + 2, b - pad)
    seg = pts[a2:b2]
    prof = diameter_profile(m, seg, path_sigma=0.0, profile_sigma=0.0, filename=filename)
    widths = prof.raw_diameter_px[prof.raw_diameter_px > 0]
    if widths.size == 0:
        raise CalibrationError("could not measure the catheter width", filename)
    # nearest skeleton pixel of every measured point -> skeleton EDT (cross-check)
    _, (ir, ic) = ndimage.distance_transform_edt(~g.skeleton, return_indices=True)
    q = np.rint(seg).astype(int)
    q[:, 0] = np.clip(q[:, 0], 0, h - 1)
    q[:, 1] = np.clip(q[:, 1], 0, w - 1)
    sr, sc = ir[q[:, 0], q[:, 1]], ic[q[:, 0], q[:, 1]]
    sk_edt = 2.0 * g.distance[sr, sc] - EDT_SKELETON_BIAS_PX
    out: Dict[str, Any] = {
        "width_px": _trimmed_mean(widths, trim),
        "width_median_px": float(np.median(widths)),
        "width_edt_px": float(np.median(sk_edt)),
        "width_iqr_px": float(np.subtract(*np.percentile(widths, [75, 25]))),
        "n_samples": int(widths.size),
        "straight_length_px": run_len,
        "segment_start_rc": [float(v) for v in seg[0]],
        "segment_end_rc": [float(v) for v in seg[-1]],
        "segment_rc": seg,
    }
    out["width_mask_px"] = out["width_px"]
    out["width_source"] = "mask"
    if image is not None:
        # the same image-border measurement as the vessels (blur-corrected cylinder fit), mask as the fallback
        try:
            iprof = diameter_profile(m, seg, image=image, method="edge", path_sigma=0.0, profile_sigma=0.0)
            ok = np.asarray(iprof.edge_from_image, bool) & (iprof.raw_diameter_px > 0)
            out["width_image_fraction"] = float(ok.mean()) if ok.size else 0.0
            out["edges"] = iprof.details.get("edges", {})
            if ok.sum() >= max(5, min_image_fraction * ok.size):
                iw = iprof.raw_diameter_px[ok]
                out["width_image_px"] = _trimmed_mean(iw, trim)
                out["width_px"] = out["width_image_px"]
                out["width_median_px"] = float(np.median(iw))
                out["width_iqr_px"] = float(np.subtract(*np.percentile(iw, [75, 25])))
                out["n_samples"] = int(iw.size)
                out["width_source"] = "image"
        except Exception as e:  # noqa: BLE001 - the image measurement falls back to the mask
            out["width_image_error"] = str(e)
        if french is not None and guidewire_mm:
            _guidewire_width(out, image, seg, float(french), float(guidewire_mm))
    return out


def _guidewire_width(out: Dict[str, Any], image: np.ndarray, seg: np.ndarray, french: float, wire_mm: float) -> None:
    """Look for a guidewire in the catheter's median profile; where one explains it, its fit gives the width."""
    w0 = out.get("width_image_px", out["width_mask_px"])
    try:
        _, y, n, plain, wired = fit_catheter_with_and_without_wire(image, seg, w0, french, wire_mm)
    except (ValueError, np.linalg.LinAlgError) as e:
        out["guidewire_error"] = str(e)
        return
    ratio = wired.sse / max(plain.sse, 1e-30)
    depth = float(np.max(y) - np.min(y))
    explained = float(np.sqrt(max(plain.sse - wired.sse, 0.0) / len(y)) / max(depth, 1e-30))
    misfit = float(np.sqrt(wired.sse / len(y)) / max(depth, 1e-30))
    vs_plain = float(wired.width / max(plain.width, 1e-30))
    lo, hi = GUIDEWIRE_WIDTH_RANGE
    found = bool(ratio < GUIDEWIRE_SSE_RATIO and explained >= GUIDEWIRE_MIN_EXPLAINED
                 and misfit <= GUIDEWIRE_MAX_MISFIT and lo <= vs_plain <= hi)
    out["guidewire"] = {
        "detected": found,
        "sse_ratio": float(ratio),
        "explained_rms_of_depth": explained,
        "misfit_rms_of_depth": misfit,
        "width_over_plain": vs_plain,
        "width_plain_px": float(plain.width),
        "width_with_wire_px": float(wired.width),
        "wire_offset_px": float(wired.wire_offset),
        "psf_sigma_px": float(wired.sigma),
        "profiles": n,
    }
    if found:
        out["width_px"] = float(wired.width)
        out["width_source"] = "image+guidewire"


_WIDTH_METHODS = {
    "image": "the image borders (trimmed mean of blur-corrected cylinder fits)",
    "image+guidewire": "its median image profile (blur-corrected fit of a cylinder holding a guidewire)",
    "mask": "the perpendicular mask profile (trimmed mean)",
}


def calibrate_from_catheter(
    label_or_mask: np.ndarray,
    french: Union[int, float, str] = 6,
    catheter_label: Optional[int] = 2,
    image: Optional[np.ndarray] = None,
    filename: Optional[str] = None,
    **kwargs: Any,
) -> Calibration:
    """Calibrate mm/px from the width of a catheter of known French size.

    Args:
        label_or_mask: ``(H, W)`` label map (catheter = ``catheter_label``) or a boolean catheter mask
            (pass ``catheter_label=None``). A boolean mask is always taken as the catheter itself.
        french: catheter size (``6``, ``"6F"``); outer diameter = ``french / 3`` mm.
        catheter_label: label value of the catheter in a label map.
        image: optional image for an informative image-edge width check.
        filename: file name for error messages.
        kwargs: passed to :func:`catheter_width_px`.

    Raises:
        CalibrationError: no catheter pixels, or its straight segment is too short.
    """
    fr = parse_french(french)
    arr = np.asarray(label_or_mask)
    if arr.dtype == bool or catheter_label is None:
        m = as_binary_mask(arr, filename=filename, what="catheter mask")
    else:
        m = as_binary_mask(arr, label=catheter_label, filename=filename, what="label map")
    kwargs.setdefault("french", fr)
    res = catheter_width_px(m, image=image, filename=filename, **kwargs)
    diam_mm = fr / 3.0
    mm_per_px = diam_mm / res["width_px"]
    details = {k: v for k, v in res.items() if k != "segment_rc"}
    details["width_source"] = res["width_source"]
    details.update(
        {
            "french": fr,
            "catheter_diameter_mm": diam_mm,
            "mm_per_px_edt": diam_mm / res["width_edt_px"] if res["width_edt_px"] > 0 else None,
            "method": "width of the central straight catheter segment, from " + _WIDTH_METHODS[res["width_source"]],
        }
    )
    details["narrow_catheter"] = bool(res["width_px"] < NARROW_CATHETER_WIDTH_PX)
    if details["narrow_catheter"]:
        details.setdefault("warnings", []).append(
            f"the catheter is only {res['width_px']:.1f} px wide; below {NARROW_CATHETER_WIDTH_PX:g} px its width, and "
            "so the scale, is uncertain by several per cent (up to 20 % on phantoms): check the scale against the "
            "DICOM geometry where there is one, or use a larger image of the same run"
        )
    if res["width_source"] == "image+guidewire":
        details.setdefault("warnings", []).append(
            "a guidewire was found inside the catheter and modelled; its width is less certain than a plain "
            "catheter's: check the scale against the DICOM geometry where there is one"
        )
    if filename is not None:
        details["filename"] = str(filename)
    return Calibration(mm_per_px=mm_per_px, source="catheter", details=details)


_META_ALIASES = {
    "imager_pixel_spacing": ("imager_pixel_spacing", "ImagerPixelSpacing"),
    "pixel_spacing": ("pixel_spacing", "PixelSpacing"),
    "sid": ("distance_source_to_detector", "DistanceSourceToDetector"),
    "sod": ("distance_source_to_patient", "DistanceSourceToPatient"),
    "emf": ("estimated_magnification_factor", "EstimatedRadiographicMagnificationFactor"),
    "iso": ("isocenter_spacing_mm",),
}


def _get(meta: Any, key: str) -> Any:
    for name in _META_ALIASES[key]:
        v = meta.get(name) if isinstance(meta, Mapping) else getattr(meta, name, None)
        if v is None:
            continue
        if hasattr(v, "detach"):
            v = v.detach().cpu().numpy()
        arr = np.atleast_1d(np.asarray(v, dtype=float)).ravel()
        if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            continue
        return arr
    return None


def _spacing(arr: np.ndarray, details: Dict[str, Any]) -> float:
    if arr.size >= 2 and abs(arr[0] - arr[1]) > 1e-6 * max(arr[0], arr[1]):
        details.setdefault("warnings", []).append(f"anisotropic pixel spacing {arr[:2].tolist()}; using the mean")
    return float(np.mean(arr[:2]))


def calibrate_from_dicom(meta: Any, filename: Optional[str] = None) -> Calibration:
    """Calibrate from DICOM geometry metadata.

    Accepts the metadata keys of :class:`monai_angio.transforms.LoadAngiogram` (``imager_pixel_spacing``,
    ``distance_source_to_detector``, ``distance_source_to_patient``, ``estimated_magnification_factor``,
    ``isocenter_spacing_mm``, ``pixel_spacing``), DICOM keywords, or a ``pydicom`` dataset. Order:

    1. ``isocenter_spacing_mm`` or ``ImagerPixelSpacing x SOD / SID`` -> ``"dicom-isocenter"``;
    2. ``ImagerPixelSpacing / EstimatedRadiographicMagnificationFactor`` -> ``"dicom-isocenter"``;
    3. ``ImagerPixelSpacing`` alone -> ``"dicom-imager"`` (flagged: not magnification corrected);
    4. ``PixelSpacing`` -> ``"dicom-imager"`` (flagged likewise).

    Raises:
        CalibrationError: none of these is present.
    """
    if meta is None:
        raise CalibrationError("no DICOM geometry (ImagerPixelSpacing / PixelSpacing) to calibrate from", filename)
    if filename is None and isinstance(meta, Mapping) and meta.get("filename_or_obj"):
        filename = str(meta.get("filename_or_obj"))
    details: Dict[str, Any] = {}
    if filename is not None:
        details["filename"] = str(filename)
    iso = _get(meta, "iso")
    if iso is not None:
        details["isocenter_spacing_mm"] = iso[:2].tolist()
        return Calibration(_spacing(iso, details), "dicom-isocenter", details)
    imager = _get(meta, "imager_pixel_spacing")
    sid, sod, emf = _get(meta, "sid"), _get(meta, "sod"), _get(meta, "emf")
    if imager is not None:
        details["imager_pixel_spacing"] = imager[:2].tolist()
        sp = _spacing(imager, details)
        if sid is not None and sod is not None:
            details.update({"distance_source_to_detector": float(sid[0]), "distance_source_to_patient": float(sod[0])})
            details["magnification"] = float(sid[0] / sod[0])
            return Calibration(sp * float(sod[0]) / float(sid[0]), "dicom-isocenter", details)
        if emf is not None:
            details["estimated_magnification_factor"] = float(emf[0])
            return Calibration(sp / float(emf[0]), "dicom-isocenter", details)
        details.setdefault("warnings", []).append(
            "ImagerPixelSpacing at the detector, not corrected for geometric magnification "
            "(no SID/SOD): vessel sizes are over-estimated by SID/SOD (typically 1.2-1.5x)"
        )
        return Calibration(sp, "dicom-imager", details)
    ps = _get(meta, "pixel_spacing")
    if ps is not None:
        details["pixel_spacing"] = ps[:2].tolist()
        sp = _spacing(ps, details)
        details.setdefault("warnings", []).append(
            "PixelSpacing only (no ImagerPixelSpacing / SID / SOD): magnification is unknown"
        )
        return Calibration(sp, "dicom-imager", details)
    raise CalibrationError("no DICOM geometry (ImagerPixelSpacing / PixelSpacing) to calibrate from", filename)


def _cross_check(cal: Calibration, meta: Any) -> Calibration:
    """Compare a catheter calibration with the DICOM isocentre geometry in ``meta`` (when there is one)."""
    if meta is None:
        return cal
    try:
        ref = calibrate_from_dicom(meta)
    except (CalibrationError, TypeError, ValueError):
        return cal
    if ref.source != "dicom-isocenter":  # detector spacing alone is off by the magnification: no comparison
        return cal
    cal.details["dicom_mm_per_px"] = float(ref.mm_per_px)
    diff = abs(cal.mm_per_px - ref.mm_per_px) / ref.mm_per_px
    if diff > CALIBRATION_AGREEMENT:
        cal.details.setdefault("warnings", []).append(
            f"catheter calibration {cal.mm_per_px:.4f} mm/px differs by {100 * diff:.0f} % from the DICOM isocentre "
            f"geometry {ref.mm_per_px:.4f} mm/px (more than {100 * CALIBRATION_AGREEMENT:.0f} %): check the catheter "
            "size, or use --mm-per-px"
        )
    return cal


def calibrate_from_artery_width(
    mask: np.ndarray,
    widest_mm: float = WIDEST_ARTERY_MM,
    filename: Optional[str] = None,
    graph: Optional[VesselGraph] = None,
) -> Calibration:
    """A rough pixel size from the widest artery in ``mask``, taken to be ``widest_mm`` wide (module docstring).

    The widest diameter is the :data:`WIDEST_ARTERY_PERCENTILE` percentile of ``2 x EDT`` on the centreline, less
    :data:`~monai_angio.qca.diameter.EDT_SKELETON_BIAS_PX`. A population prior: fit for a size criterion (the
    2 mm major-branch rule); millimetres measured with it are approximate.

    Args:
        mask: ``(H, W)`` artery mask, or a 0/1/2 label map (label 1 is the artery).
        widest_mm: diameter assumed for the widest artery (mm).
        filename: source file, for error messages.
        graph: ``vessel_graph`` of the artery mask when the caller has already built it (else built here).

    Returns:
        a :class:`Calibration` with source ``"artery-width"``; ``details`` holds the widest diameter in pixels, the
        assumed diameter, the centreline length and a warning.

    Raises:
        CalibrationError: ``widest_mm`` is not positive, or the mask holds fewer than
            :data:`MIN_ARTERY_CENTRELINE_PX` centreline pixels of artery.
    """
    if not (np.isfinite(widest_mm) and widest_mm > 0):
        raise CalibrationError(f"widest_mm must be a positive number, got {widest_mm!r}", filename)
    if graph is None:
        m = as_binary_mask(mask, filename=filename, what="artery mask")
        if not m.any():
            raise CalibrationError("no artery to take the scale from (empty artery mask)", filename)
        graph = vessel_graph(m, filename=filename)
    nodes = np.array(list(graph.graph.nodes), dtype=int).reshape(-1, 2)
    if len(nodes) < MIN_ARTERY_CENTRELINE_PX:
        raise CalibrationError(
            f"too little artery to take the scale from ({len(nodes)} centreline px, at least "
            f"{MIN_ARTERY_CENTRELINE_PX} needed)",
            filename,
        )
    diam = 2.0 * graph.distance[nodes[:, 0], nodes[:, 1]] - EDT_SKELETON_BIAS_PX
    widest_px = float(np.percentile(diam, WIDEST_ARTERY_PERCENTILE))
    details: Dict[str, Any] = {
        "widest_artery_px": widest_px,
        "widest_artery_mm_assumed": float(widest_mm),
        "centreline_px": len(nodes),
        "warnings": [
            f"scale from the widest artery taken to be {widest_mm:g} mm wide (a population value, about +-15 %): "
            "millimetres are approximate"
        ],
    }
    if filename is not None:
        details["filename"] = str(filename)
    return Calibration(float(widest_mm) / widest_px, "artery-width", details)


def calibrate(
    label: Optional[np.ndarray] = None,
    meta: Any = None,
    french: Optional[Union[int, float, str]] = None,
    user_mm_per_px: Optional[float] = None,
    catheter_label: int = 2,
    image: Optional[np.ndarray] = None,
    filename: Optional[str] = None,
    widest_artery_mm: Optional[float] = None,
) -> Calibration:
    """Pick the best available calibration.

    Order: an explicit ``user_mm_per_px`` (``"user"``); the catheter in ``label`` when ``french`` is given;
    the DICOM geometry in ``meta``; only when asked for (``widest_artery_mm``), the artery in ``label`` by
    :func:`calibrate_from_artery_width` (``"artery-width"``, approximate, with a warning). A failed catheter
    calibration falls back to DICOM and the reason is kept in ``details["catheter_error"]``. When both the
    catheter and the DICOM isocentre geometry calibrate, the catheter is used, the DICOM value is kept in
    ``details["dicom_mm_per_px"]`` and a warning is added if they differ by more than
    :data:`CALIBRATION_AGREEMENT` (a wrong French size, a catheter off the isocentre plane, or wrong geometry
    tags).

    Raises:
        CalibrationError: nothing worked; the message lists why each source failed.
    """
    if user_mm_per_px is not None:
        return Calibration(float(user_mm_per_px), "user", {"note": "mm/px given by the user"})
    reasons = []
    if label is not None and french is not None:
        try:
            cal = calibrate_from_catheter(
                label, french=french, catheter_label=catheter_label, image=image, filename=filename
            )
            return _cross_check(cal, meta)
        except CalibrationError as e:
            reasons.append(f"catheter: {e.problem}")
    elif label is not None:
        reasons.append("catheter: no French size given")
    if meta is not None:
        try:
            cal = calibrate_from_dicom(meta, filename=filename)
            if reasons:
                cal.details["catheter_error"] = reasons[0]
                cal.details.setdefault("warnings", []).append(f"{reasons[0]}; calibrated from the DICOM geometry")
            return cal
        except CalibrationError as e:
            reasons.append(f"dicom: {e.problem}")
    else:
        reasons.append("dicom: no metadata")
    if widest_artery_mm is not None and label is not None:
        try:
            cal = calibrate_from_artery_width(label, widest_mm=widest_artery_mm, filename=filename)
            cal.details["catheter_error"] = reasons[0]
            cal.details["warnings"].append(
                f"no catheter or DICOM scale ({'; '.join(reasons)}); %DS and %AS do not depend on the scale"
            )
            return cal
        except (CalibrationError, AngioInputError) as e:
            reasons.append(f"artery width: {e.problem}")
    raise CalibrationError("no calibration available (" + "; ".join(reasons) + ")", filename)
