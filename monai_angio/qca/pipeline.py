"""The QCA pipeline: from a label map (and image) to a :class:`~monai_angio.qca.stenosis.StenosisReport`.

Module layering (a module imports only those below it, never one above)::

    centerline -> diameter -> calibration, branches, gaps -> stenosis -> lesions -> pipeline -> report/apps

:func:`analyze_stenosis` is the high-level analysis that needs both the per-profile quantification
(:mod:`~monai_angio.qca.stenosis`) and the automatic per-segment lesion search (:mod:`~monai_angio.qca.lesions`);
it lives here so that neither of those has to import the other lazily.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Union

import numpy as np
from scipy import ndimage

from monai_angio.errors import AngioInputError
from monai_angio.utils.arrays import squeeze_leading

from .branches import filter_major_branches, find_root
from .calibration import Calibration, calibrate
from .centerline import as_binary_mask, vessel_graph
from .diameter import DiameterProfile, diameter_profile, smooth_diameters
from .edges import check_vessels_dark
from .gaps import apply_bridge_diameters, bridge_mask_gaps
from .lesions import EDGE_ONLY_MARGIN_DS, LESION_LIST_MIN_DS, MASK_LESION_DS, find_lesions, lesion_summary
from .stenosis import StenosisReport, _serious, analyze_profile

__all__ = ["analyze_stenosis", "psf_from_calibration"]


def psf_from_calibration(calibration: Calibration) -> Optional[float]:
    """The Gaussian PSF sigma (px) estimated on the catheter by an image-based calibration, else None.

    Not after a guidewire was found in the catheter (``width_source="image+guidewire"``): the vessels then measure
    their own PSF.
    """
    det = calibration.details or {}
    if det.get("width_source") != "image":
        return None
    sig = (det.get("edges") or {}).get("psf_sigma_px")
    return float(sig) if sig is not None and np.isfinite(sig) and sig > 0 else None


def analyze_stenosis(
    mask: np.ndarray,
    image: Optional[np.ndarray] = None,
    calibration: Optional[Union[Calibration, float]] = None,
    start_rc: Optional[Sequence[float]] = None,
    end_rc: Optional[Sequence[float]] = None,
    path: Optional[np.ndarray] = None,
    french: Optional[Union[int, float, str]] = None,
    meta: Any = None,
    method: Optional[str] = None,
    min_origin_diameter_mm: float = 2.0,
    degree: int = 1,
    lesion_threshold: float = 0.05,
    filename: Optional[str] = None,
    report_threshold: float = LESION_LIST_MIN_DS,
    max_gap_mm: float = 5.0,
) -> StenosisReport:
    """Catheter-calibrated QCA of one vessel segment.

    Args:
        mask: ``(H, W)`` 0/1/2 label map (artery 1, catheter 2) or a binary artery mask.
        image: optional angiogram ``(H, W)``: with it the diameters are measured from the image borders
            (``method="edge"``, the mask only guides; mask gaps are bridged) and the catheter is measured the same
            way for the calibration.
        calibration: a :class:`Calibration` or mm/px; None -> :func:`~monai_angio.qca.calibration.calibrate`
            from the catheter in ``mask`` (needs ``french``) then from ``meta``.
        start_rc, end_rc: points of the segment to analyse (snapped to the centreline).
        path: an explicit ``(N, 2)`` centreline path (overrides start/end).
        french: catheter size for catheter calibration.
        meta: DICOM geometry metadata for the fallback calibration.
        method: ``"edge"`` (default with an image: continuous image borders + blurred-cylinder fit, mask
            boundary as the per-profile fallback), ``"mask"`` (default without an image) or ``"image"`` (plain
            gradient maxima, for comparison).
        min_origin_diameter_mm: clinical filter used when the segment is chosen automatically.
        degree: reference polynomial degree.
        lesion_threshold: relative departure from the reference that defines the lesion.
        filename: name of the input, for reports and errors.
        report_threshold: automatic mode: every lesion with at least this %DS is listed in
            ``details["lesions"]``.
        max_gap_mm: with an ``image``, end-to-end gaps in the artery mask up to this size (a mask interrupted
            at a tight lesion) are bridged through the image (:mod:`~monai_angio.qca.gaps`) and the diameter
            there is measured from the image edges; 0 disables bridging.

    Without ``start_rc``/``end_rc``/``path``, the major vessels (origin >= ``min_origin_diameter_mm``) are
    kept and analysed segment by segment (:func:`~monai_angio.qca.lesions.find_lesions`: segments between
    the ostium, junctions and end points; junction neighbourhoods excluded; reference fitted per segment;
    a lesion needs healthy reference on both sides, so tapering ends are not lesions). The worst lesion
    (highest %DS) is reported, all lesions >= ``report_threshold`` %DS in ``details["lesions"]``.

    Raises:
        AngioInputError: empty artery mask, bad shapes.
        CalibrationError: no calibration available.
    """
    arr = squeeze_leading(mask)
    artery = as_binary_mask(arr, filename=filename)
    if not artery.any():
        raise AngioInputError("the artery mask is empty (no label-1 pixels)", filename)
    img2d = None if image is None else squeeze_leading(image, np.float64)
    image_raw = img2d  # img2d is smoothed below where gaps are bridged
    # the image edges model dark vessels: an inverted image (or another image's mask) is refused
    if img2d is not None and img2d.shape == arr.shape:
        check_vessels_dark(img2d, np.rint(arr) > 0, filename)
    if calibration is None:
        label = arr if arr.dtype != bool else None
        calibration = calibrate(label=label, meta=meta, french=french, image=image, filename=filename)
    elif not isinstance(calibration, Calibration):
        calibration = Calibration(float(calibration), "user", {"note": "mm/px given by the user"})
    catheter = (np.rint(arr) == 2) if arr.dtype != bool else None
    kw: dict = dict(image=image, calibration=calibration, method=method, filename=filename)
    psf = psf_from_calibration(calibration)
    if image is not None and psf is not None:  # the PSF measured on the catheter (high contrast, known cylinder)
        kw["psf_sigma_px"] = psf
    original = artery
    bridge_px: Optional[np.ndarray] = None
    bridges: List[Any] = []
    if img2d is not None and max_gap_mm > 0:
        if img2d.shape != artery.shape:
            raise AngioInputError(f"image shape {img2d.shape} does not match mask shape {artery.shape}", filename)
        artery, bridge_px, bridges = bridge_mask_gaps(artery, img2d, max_gap_mm / calibration.mm_per_px)
        if bridge_px.any():  # once for every profile: the neighbourhood of the bridges and the smoothed image
            bridge_px = ndimage.distance_transform_edt(~bridge_px) <= 1.5
            img2d = ndimage.gaussian_filter(img2d, 1.0)

    def _profile(p: np.ndarray) -> DiameterProfile:
        prof = diameter_profile(artery, p, **kw)
        if bridge_px is not None and bridge_px.any():
            own = None if prof.edge_from_image is None else prof.edge_from_image.copy()
            raw0 = prof.raw_diameter_px.copy()
            apply_bridge_diameters(prof, img2d, bridge_px, original, image_sigma=0.0, near_px=0.0)
            if own is not None and own.any():  # edge method: its own image borders stand, also in the gap
                prof.raw_diameter_px = np.where(own, raw0, prof.raw_diameter_px)
                prof.diameter_px = smooth_diameters(
                    prof.raw_diameter_px, int(prof.details.get("median_size", 3)),
                    float(prof.details.get("profile_sigma", 1.0)),
                )
            if own is not None and prof.bridged is not None:  # the bridge diameters come from the image too
                prof.edge_from_image = own | np.asarray(prof.bridged, bool)
        return prof

    def _bridge_details(rep: StenosisReport) -> StenosisReport:
        rep.details["gap_bridging"] = {
            "max_gap_mm": float(max_gap_mm) if image is not None else 0.0,
            "bridges": [dict(b.to_dict(), gap_mm=b.gap_px * calibration.mm_per_px) for b in bridges],
            "zones_on_path": rep.profile.details.get("bridged_zones", []),
        }
        return rep

    if path is not None:
        prof = _profile(path)
        return _bridge_details(analyze_profile(prof, calibration, degree, lesion_threshold, filename=filename))
    if start_rc is not None and end_rc is not None:
        g = vessel_graph(artery, filename=filename)
        p = g.shortest_path(start_rc, end_rc)
        prof = _profile(p)
        rep = analyze_profile(prof, calibration, degree, lesion_threshold, filename=filename)
        rep.details["path_selection"] = "user start/end points snapped to the centreline"
        return _bridge_details(rep)
    if (start_rc is None) != (end_rc is None):
        raise AngioInputError("give both start and end points, or neither", filename)
    major, major_info = filter_major_branches(  # the mask's width bias against the image borders corrected
        artery, calibration, min_origin_diameter_mm, catheter_mask=catheter, filename=filename, return_info=True,
        image=image_raw if method in (None, "edge") else None, psf_sigma_px=kw.get("psf_sigma_px"),
    )
    if not major.any():
        major = artery
    g = vessel_graph(major, filename=filename)
    root = find_root(g, catheter)
    reps = find_lesions(
        artery, g, root, calibration, image=image, method=method, degree=degree,
        lesion_threshold=lesion_threshold, filename=filename, profile_fn=_profile, catheter=catheter,
    )
    if reps:
        best = reps[0]
        selection = (
            f"automatic: {len(reps)} vessel segments (between ostium, junctions and end points) of the vessels >= "
            f"{min_origin_diameter_mm} mm at their origin, junction neighbourhoods and the ostium excluded, reference "
            "fitted per segment, lesions need healthy reference on both sides; the worst lesion (highest %DS; a "
            f"narrowing seen by the image edges and not by the mask (< {MASK_LESION_DS:g} %DS) ranks by the mask's "
            f"%DS + {EDGE_ONLY_MARGIN_DS:g} points)"
        )
    else:  # nothing analysable segment by segment: the longest path, as one segment
        p = g.longest_path()
        prof = _profile(p)
        best = analyze_profile(prof, calibration, degree, lesion_threshold, filename=filename)
        best.warnings.append("no vessel segment long enough for a per-segment analysis: longest path analysed")
        selection = "automatic fallback: the longest centreline path"
    best.details["path_selection"] = selection
    best.details["major_filter_mask_width_bias_mm"] = float(major_info["mask_width_bias_mm"])
    best.details["lesions_threshold_percent_ds"] = float(report_threshold)
    best.details["lesions"] = [
        lesion_summary(r) for r in reps if r.percent_diameter_stenosis >= report_threshold and not _serious(r)
    ]
    best.details["n_segments_analysed"] = len(reps)
    return _bridge_details(best)
