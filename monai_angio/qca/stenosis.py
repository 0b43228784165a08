"""Stenosis quantification: interpolated reference diameter, MLD, %DS, %AS, lesion length.

Definitions (in the spirit of the interpolated reference of DICOM PS3.17 Annex T / CAAS):

- The diameter profile ``d(s)`` along the analysed centreline (arc length ``s``) is measured by
  :func:`~monai_angio.qca.diameter.diameter_profile` and lightly smoothed.
- **Reference** ``ref(s)``: a low-order polynomial (degree 1 by default: a linearly tapering healthy
  vessel) fitted iteratively to the profile *outside* the lesion. At each iteration the lesion (the
  contiguous region around the point of maximal relative narrowing ``d/ref`` where ``d < ref - t``)
  is excluded, widened by 15 % of its length on each side, as are samples more than ``t`` below the
  reference (other narrowings); once this has converged, samples more than ``max(3 sigma, t)`` above it
  (bulges at side-branch origins) are excluded too and the fit is iterated again. ``sigma`` is the
  robust (MAD) residual scale and ``t = max(lesion_threshold x ref, 2 sigma)``. The first and last
  ``end_margin`` samples (vessel ends, ostium) are never used.
- **MLD**: the minimum of ``d`` over the analysed segment (same ends excluded; the point of maximal
  relative narrowing ``d / ref``), refined by a least-squares parabola through the unsmoothed profile over
  +-20 % of the lesion extent (neither the low bias of a noisy minimum nor the high bias of heavy
  smoothing); the reference diameter is ``ref`` at the MLD position.
- ``%DS = (1 - MLD / ref) x 100``, ``%AS = (1 - (MLD / ref)^2) x 100`` (circular cross-section).
- **Lesion length / obstruction boundaries**: the contiguous region around the MLD where the profile lies
  more than ``t`` below the reference (``lesion_threshold`` = 5 % of the reference by default), with
  sub-sample interpolation of both boundaries. For a cosine-shaped lesion of total length ``L`` and 50 %
  DS this spans about 0.8 ``L``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from scipy import ndimage

from monai_angio.errors import AngioInputError

from .branches import filter_major_branches, find_root
from .calibration import Calibration, _jsonable, calibrate
from .centerline import as_binary_mask, vessel_graph
from .diameter import DiameterProfile, diameter_profile

__all__ = [
    "ReferenceFit",
    "StenosisReport",
    "interpolated_reference",
    "analyze_profile",
    "analyze_stenosis",
    "crop_profile",
]


@dataclass
class ReferenceFit:
    """Result of :func:`interpolated_reference`.

    Attributes:
        reference: ``(N,)`` reference diameter (same unit as the profile).
        used: ``(N,)`` bool, samples used in the final fit.
        coefficients: polynomial coefficients (highest power first) in the profile's units.
        mld_index: index of the minimum diameter.
        lesion_start / lesion_end: sub-sample positions (in arc-length units) of the obstruction boundaries.
        lesion_start_index / lesion_end_index: inclusive sample indices of the lesion.
        threshold: the departure ``t`` below the reference that defines the lesion.
        sigma: robust residual scale.
        iterations: number of iterations run.
    """

    reference: np.ndarray
    used: np.ndarray
    coefficients: np.ndarray
    mld_index: int
    lesion_start: float
    lesion_end: float
    lesion_start_index: int
    lesion_end_index: int
    threshold: float
    sigma: float
    iterations: int


def interpolated_reference(
    s: np.ndarray,
    d: np.ndarray,
    degree: int = 1,
    lesion_threshold: float = 0.05,
    end_margin: int = 3,
    start_margin: Optional[int] = None,
    lesion_margin: float = 0.15,
    max_iter: int = 30,
) -> ReferenceFit:
    """Iterative lesion-excluding polynomial fit of a diameter profile.

    Args:
        s: ``(N,)`` arc length.
        d: ``(N,)`` diameter.
        degree: polynomial degree (1 = linear taper).
        lesion_threshold: relative departure below the reference that belongs to the lesion.
        end_margin: samples at both ends excluded from the fit and from the MLD search.
        start_margin: samples excluded at the start instead of ``end_margin`` (e.g. the ostium), if given.
        lesion_margin: fraction of the lesion length excluded additionally on each side during the fit.
        max_iter: iteration limit.

    Raises:
        AngioInputError: fewer than 5 usable samples.
    """
    s = np.asarray(s, float)
    d = np.asarray(d, float)
    n = len(d)
    e = int(end_margin) if n - 2 * int(end_margin) >= 5 else 0
    e0 = e if start_margin is None else int(start_margin)
    if n - e0 - e < 5:
        e0 = e
    valid = np.zeros(n, bool)
    valid[e0 : n - e] = True
    valid &= np.isfinite(d)
    if valid.sum() < 5:
        raise AngioInputError(f"the analysed vessel segment is too short ({n} samples) for QCA")
    used = valid & (d > 0)
    if used.sum() < 3:
        used = valid.copy()
    it = 0
    ref = np.full(n, np.nanmedian(d[valid]))
    coef = np.array([ref[0]])
    a = b = int(np.argmin(np.where(valid, d, np.inf)))
    thr = sigma = 0.0
    vidx = np.nonzero(valid)[0]
    outliers = False
    for it in range(1, max_iter + 1):
        deg = int(min(degree, max(0, used.sum() - 2)))
        coef = np.polyfit(s[used], d[used], deg)
        ref = np.maximum(np.polyval(coef, s), 1e-9)
        r = d - ref
        sigma = 1.4826 * float(np.median(np.abs(r[used] - np.median(r[used]))))
        sigma = max(sigma, 0.005 * float(np.median(ref[valid])))
        mld = int(vidx[np.argmin((d / ref)[valid])])
        thr = max(lesion_threshold * float(ref[mld]), 2.0 * sigma)
        a = b = mld
        while a - 1 >= vidx[0] and d[a - 1] < ref[a - 1] - thr:
            a -= 1
        while b + 1 <= vidx[-1] and d[b + 1] < ref[b + 1] - thr:
            b += 1
        pad = int(np.ceil(lesion_margin * (b - a + 1)))
        new_used = valid & (d > 0) & (r >= -thr)
        if outliers:  # second phase: also drop bulges (side-branch origins) once the lesion is out
            new_used &= r <= max(3.0 * sigma, thr)
        new_used[max(0, a - pad) : b + pad + 1] = False
        if new_used.sum() < max(3, degree + 2):
            break
        if np.array_equal(new_used, used):
            if outliers:
                break
            outliers = True
        used = new_used
    # sub-sample obstruction boundaries: where d crosses ref - thr
    dev = d - (ref - thr)

    def _cross(i_in: int, i_out: int) -> float:
        if i_out < 0 or i_out >= n or dev[i_out] <= dev[i_in] or not valid[i_out]:
            return float(s[i_in])
        f = (0.0 - dev[i_in]) / (dev[i_out] - dev[i_in])
        f = float(np.clip(f, 0.0, 1.0))
        return float(s[i_in] + f * (s[i_out] - s[i_in]))

    if d[a] < ref[a] - thr:
        l0, l1 = _cross(a, a - 1), _cross(b, b + 1)
    else:  # no lesion below the threshold: a point lesion of zero length at the MLD
        l0 = l1 = float(s[a])
    return ReferenceFit(ref, used, coef, int(np.argmin(np.where(valid, d / ref, np.inf))), l0, l1, a, b, thr, sigma, it)


@dataclass
class StenosisReport:
    """QCA result for one vessel segment.

    All lengths/diameters are in mm (``*_mm``); positions in pixels are ``(row, col)``.
    """

    calibration: Calibration
    mld_mm: float
    reference_diameter_mm: float
    percent_diameter_stenosis: float
    percent_area_stenosis: float
    lesion_length_mm: float
    mld_position_mm: float
    mld_rc: Tuple[float, float]
    lesion_start_mm: float
    lesion_end_mm: float
    lesion_start_rc: Tuple[float, float]
    lesion_end_rc: Tuple[float, float]
    profile: DiameterProfile
    reference_mm: np.ndarray
    fit_used: np.ndarray
    filename: Optional[str] = None
    path_start_rc: Optional[Tuple[float, float]] = None
    path_end_rc: Optional[Tuple[float, float]] = None
    warnings: List[str] = field(default_factory=list)
    details: Dict[str, Any] = field(default_factory=dict)

    @property
    def mm_per_px(self) -> float:
        """Calibration in mm per pixel."""
        return self.calibration.mm_per_px

    @property
    def calibration_source(self) -> str:
        """Where the calibration came from."""
        return self.calibration.source

    def summary(self) -> str:
        """One human-readable paragraph."""
        name = f"{self.filename}: " if self.filename else ""
        return (
            f"{name}MLD {self.mld_mm:.2f} mm, reference {self.reference_diameter_mm:.2f} mm, "
            f"DS {self.percent_diameter_stenosis:.1f} %, AS {self.percent_area_stenosis:.1f} %, "
            f"lesion length {self.lesion_length_mm:.1f} mm at {self.mld_position_mm:.1f} mm along the path "
            f"(calibration {self.mm_per_px:.4f} mm/px from {self.calibration_source})"
        )

    def to_dict(self, include_profile: bool = True) -> Dict[str, Any]:
        """JSON-serialisable dictionary (profile arrays included unless ``include_profile=False``)."""
        out: Dict[str, Any] = {
            "filename": self.filename,
            "calibration": self.calibration.to_dict(),
            "mm_per_px": self.mm_per_px,
            "calibration_source": self.calibration_source,
            "mld_mm": self.mld_mm,
            "reference_diameter_mm": self.reference_diameter_mm,
            "percent_diameter_stenosis": self.percent_diameter_stenosis,
            "percent_area_stenosis": self.percent_area_stenosis,
            "lesion_length_mm": self.lesion_length_mm,
            "mld_position_mm": self.mld_position_mm,
            "mld_rc": list(self.mld_rc),
            "lesion_start_mm": self.lesion_start_mm,
            "lesion_end_mm": self.lesion_end_mm,
            "lesion_start_rc": list(self.lesion_start_rc),
            "lesion_end_rc": list(self.lesion_end_rc),
            "path_start_rc": None if self.path_start_rc is None else list(self.path_start_rc),
            "path_end_rc": None if self.path_end_rc is None else list(self.path_end_rc),
            "method": self.profile.method,
            "warnings": list(self.warnings),
            "details": self.details,
        }
        if include_profile:
            out["profile"] = {
                "arc_length_mm": self.profile.arc_length_mm,
                "diameter_mm": self.profile.diameter_mm,
                "raw_diameter_mm": self.profile.raw_diameter_px * self.mm_per_px,
                "edt_diameter_mm": self.profile.edt_diameter_px * self.mm_per_px,
                "reference_mm": self.reference_mm,
                "fit_used": self.fit_used,
                "centerline_rc": self.profile.path_rc,
                "bridged": (
                    np.zeros(len(self.profile), bool) if self.profile.bridged is None else self.profile.bridged
                ),
            }
        return _jsonable(out)


def _serious(rep: "StenosisReport") -> bool:
    """True when a report has warnings other than the note that a mask gap was bridged through the image."""
    from .gaps import BRIDGE_WARNING  # noqa: PLC0415

    return any(not w.startswith(BRIDGE_WARNING) for w in rep.warnings)


def _interp_rc(profile: DiameterProfile, s_px: float) -> Tuple[float, float]:
    s = profile.arc_length_px
    return (float(np.interp(s_px, s, profile.path_rc[:, 0])), float(np.interp(s_px, s, profile.path_rc[:, 1])))


def _refine_mld(
    raw: np.ndarray, smooth: np.ndarray, i: int, fit: ReferenceFit, end: int, start: Optional[int] = None
) -> Tuple[float, float]:
    """MLD by a local quadratic fit to the raw profile around the minimum of the smoothed one.

    The window is +-max(2, 20 % of the lesion extent) samples. The minimum of a noisy profile is biased low
    (the minimum of the noise), heavier smoothing biases it high (it fills the narrowing); a least-squares
    parabola over the bottom of the lesion has neither problem. Falls back to the smoothed minimum when the
    fit is not a proper minimum inside the window.
    """
    n = len(raw)
    h = max(2, int(round(0.2 * (fit.lesion_end_index - fit.lesion_start_index + 1))))
    lo, hi = max(end if start is None else start, i - h), min(n - 1 - end, i + h)
    if hi - lo < 4:
        return float(smooth[i]), float(i)
    x = np.arange(lo, hi + 1, dtype=float) - i
    c = np.polyfit(x, raw[lo : hi + 1], 2)
    if c[0] <= 0:
        return float(smooth[i]), float(i)
    xv = -c[1] / (2 * c[0])
    if not (x[0] <= xv <= x[-1]):
        return float(smooth[i]), float(i)
    return max(float(np.polyval(c, xv)), 0.0), float(i + xv)


def analyze_profile(
    profile: DiameterProfile,
    calibration: Calibration,
    degree: int = 1,
    lesion_threshold: float = 0.05,
    end_margin_px: Optional[float] = None,
    filename: Optional[str] = None,
    start_margin_px: Optional[float] = None,
) -> StenosisReport:
    """QCA of a measured diameter profile.

    Args:
        profile: from :func:`~monai_angio.qca.diameter.diameter_profile`.
        calibration: the calibration (its ``mm_per_px`` is applied to the profile).
        degree: reference polynomial degree.
        lesion_threshold: relative departure from the reference that defines the lesion.
        end_margin_px: arc length excluded at both path ends; default the median vessel radius (>= 3 px).
        filename: source file, reported.
        start_margin_px: arc length excluded at the start instead (e.g. the ostium next to the catheter tip).
    """
    profile.mm_per_px = calibration.mm_per_px
    step = float(np.median(np.diff(profile.arc_length_px))) if len(profile) > 1 else 1.0
    if end_margin_px is None:
        end_margin_px = max(3.0, 0.5 * float(np.median(profile.diameter_px)))
    e = int(np.ceil(end_margin_px / max(step, 1e-9)))
    d_mm = profile.diameter_mm
    e0 = None if start_margin_px is None else int(np.ceil(start_margin_px / max(step, 1e-9)))
    fit = interpolated_reference(
        profile.arc_length_mm, d_mm, degree=degree, lesion_threshold=lesion_threshold, end_margin=e, start_margin=e0
    )
    i = fit.mld_index
    mld, i_sub = _refine_mld(profile.raw_diameter_px * calibration.mm_per_px, d_mm, i, fit, e, e0)
    ref = float(np.interp(i_sub, np.arange(len(d_mm)), fit.reference))
    ds = (1.0 - mld / ref) * 100.0
    as_ = (1.0 - (mld / ref) ** 2) * 100.0
    warnings = []
    if fit.used.sum() < 0.2 * len(d_mm):
        warnings.append("fewer than 20 % of the profile samples were usable for the reference fit")
    bridged = profile.bridged
    if bridged is not None and np.any(bridged):
        from .gaps import BRIDGE_WARNING  # noqa: PLC0415 (gaps imports diameter only; avoid a cycle at import)

        sb = profile.arc_length_mm
        lab, nz = ndimage.label(np.asarray(bridged, bool))
        spans = []
        for k in range(1, nz + 1):
            idx = np.nonzero(lab == k)[0]
            spans.append(f"{sb[idx[0]]:.1f}-{sb[idx[-1]]:.1f} mm")
        warnings.append(f"{BRIDGE_WARNING} at {', '.join(spans)} along the path; diameter from image edges there")
    if mld <= 0:
        warnings.append("the vessel is interrupted on the analysed path (MLD 0: occlusion or mask gap)")
    if ref > 1.5 * float(np.median(d_mm[fit.used])) if fit.used.any() else False:
        warnings.append("the reference diameter is extrapolated far from the healthy samples")
    mm = calibration.mm_per_px
    return StenosisReport(
        calibration=calibration,
        mld_mm=mld,
        reference_diameter_mm=ref,
        percent_diameter_stenosis=float(ds),
        percent_area_stenosis=float(as_),
        lesion_length_mm=float(fit.lesion_end - fit.lesion_start),
        mld_position_mm=float(profile.arc_length_mm[i]),
        mld_rc=tuple(float(v) for v in profile.path_rc[i]),
        lesion_start_mm=fit.lesion_start,
        lesion_end_mm=fit.lesion_end,
        lesion_start_rc=_interp_rc(profile, fit.lesion_start / mm),
        lesion_end_rc=_interp_rc(profile, fit.lesion_end / mm),
        profile=profile,
        reference_mm=fit.reference,
        fit_used=fit.used,
        filename=filename,
        path_start_rc=tuple(float(v) for v in profile.path_rc[0]),
        path_end_rc=tuple(float(v) for v in profile.path_rc[-1]),
        warnings=warnings,
        details={
            "reference_degree": degree,
            "reference_coefficients_mm": fit.coefficients,
            "lesion_threshold_mm": fit.threshold,
            "profile_noise_sd_mm": fit.sigma,
            "end_margin_px": end_margin_px,
            "lesion_definition": f"contiguous region around the MLD more than max({lesion_threshold:.0%} of the "
            "reference, 2 x robust profile SD) below the interpolated reference",
        },
    )


def crop_profile(profile: DiameterProfile, start: int, stop: int) -> DiameterProfile:
    """The samples ``start:stop`` of a profile, arc length restarting at 0."""
    sl = slice(max(0, int(start)), min(len(profile), int(stop)))
    s = profile.arc_length_px[sl]
    return DiameterProfile(
        path_rc=profile.path_rc[sl],
        arc_length_px=s - s[0],
        diameter_px=profile.diameter_px[sl],
        raw_diameter_px=profile.raw_diameter_px[sl],
        edt_diameter_px=profile.edt_diameter_px[sl],
        edge_left_rc=profile.edge_left_rc[sl],
        edge_right_rc=profile.edge_right_rc[sl],
        normals=profile.normals[sl],
        mm_per_px=profile.mm_per_px,
        method=profile.method,
        bridged=None if profile.bridged is None else profile.bridged[sl],
        details=dict(profile.details, cropped_from=[sl.start, sl.stop]),
    )


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
    report_threshold: float = 20.0,
    max_gap_mm: float = 5.0,
) -> StenosisReport:
    """Catheter-calibrated QCA of one vessel segment.

    Args:
        mask: ``(H, W)`` 0/1/2 label map (artery 1, catheter 2) or a binary artery mask.
        image: optional angiogram ``(H, W)`` (used for ``method="image"`` and reported edges).
        calibration: a :class:`Calibration` or mm/px; None -> :func:`~monai_angio.qca.calibration.calibrate`
            from the catheter in ``mask`` (needs ``french``) then from ``meta``.
        start_rc, end_rc: points of the segment to analyse (snapped to the centreline).
        path: an explicit ``(N, 2)`` centreline path (overrides start/end).
        french: catheter size for catheter calibration.
        meta: DICOM geometry metadata for the fallback calibration.
        method: ``"mask"`` (default) or ``"image"`` edge detection.
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
    arr = np.asarray(mask.detach().cpu().numpy() if hasattr(mask, "detach") else mask)
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    artery = as_binary_mask(arr, filename=filename)
    if not artery.any():
        raise AngioInputError("the artery mask is empty (no label-1 pixels)", filename)
    if calibration is None:
        label = arr if arr.dtype != bool else None
        calibration = calibrate(label=label, meta=meta, french=french, image=image, filename=filename)
    elif not isinstance(calibration, Calibration):
        calibration = Calibration(float(calibration), "user", {"note": "mm/px given by the user"})
    catheter = (np.rint(arr) == 2) if arr.dtype != bool else None
    kw = dict(image=image, calibration=calibration, method=method, filename=filename)
    original = artery
    bridge_px: Optional[np.ndarray] = None
    bridges: List[Any] = []
    if image is not None and max_gap_mm > 0:
        from .gaps import bridge_mask_gaps  # noqa: PLC0415

        img2d = np.asarray(image.detach().cpu().numpy() if hasattr(image, "detach") else image, dtype=np.float64)
        while img2d.ndim > 2 and img2d.shape[0] == 1:
            img2d = img2d[0]
        if img2d.shape != artery.shape:
            raise AngioInputError(f"image shape {img2d.shape} does not match mask shape {artery.shape}", filename)
        artery, bridge_px, bridges = bridge_mask_gaps(artery, img2d, max_gap_mm / calibration.mm_per_px)
        if bridge_px.any():  # once for every profile: the neighbourhood of the bridges and the smoothed image
            bridge_px = ndimage.distance_transform_edt(~bridge_px) <= 1.5
            img2d = ndimage.gaussian_filter(img2d, 1.0)

    def _profile(p: np.ndarray) -> DiameterProfile:
        prof = diameter_profile(artery, p, **kw)
        if bridge_px is not None and bridge_px.any():
            from .gaps import apply_bridge_diameters  # noqa: PLC0415

            apply_bridge_diameters(prof, img2d, bridge_px, original, image_sigma=0.0, near_px=0.0)
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
    from .lesions import find_lesions, lesion_summary  # noqa: PLC0415 (lesions imports this module)

    major = filter_major_branches(
        artery, calibration, min_origin_diameter_mm, catheter_mask=catheter, filename=filename
    )
    if not major.any():
        major = artery
    g = vessel_graph(major, filename=filename)
    root = find_root(g, catheter)
    reps = find_lesions(
        artery, g, root, calibration, image=image, method=method, degree=degree,
        lesion_threshold=lesion_threshold, filename=filename, profile_fn=_profile,
    )
    if reps:
        best = reps[0]
        selection = (
            f"automatic: {len(reps)} vessel segments (between ostium, junctions and end points) of the vessels >= "
            f"{min_origin_diameter_mm} mm at their origin, junction neighbourhoods and the ostium excluded, reference "
            "fitted per segment, lesions need healthy reference on both sides; the worst lesion (highest %DS)"
        )
    else:  # nothing analysable segment by segment: the longest path, as one segment
        p = g.longest_path()
        prof = _profile(p)
        best = analyze_profile(prof, calibration, degree, lesion_threshold, filename=filename)
        best.warnings.append("no vessel segment long enough for a per-segment analysis: longest path analysed")
        selection = "automatic fallback: the longest centreline path"
    best.details["path_selection"] = selection
    best.details["lesions_threshold_percent_ds"] = float(report_threshold)
    best.details["lesions"] = [
        lesion_summary(r) for r in reps if r.percent_diameter_stenosis >= report_threshold and not _serious(r)
    ]
    best.details["n_segments_analysed"] = len(reps)
    return _bridge_details(best)
