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

The whole analysis of a mask/image (path choice, gap bridging, automatic lesion search) is
:func:`monai_angio.qca.pipeline.analyze_stenosis`; this module only turns a measured profile into numbers and
imports nothing above :mod:`~monai_angio.qca.diameter` / :mod:`~monai_angio.qca.gaps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from scipy import ndimage

from monai_angio.errors import AngioInputError
from monai_angio.utils.jsonable import jsonable

from .calibration import Calibration
from .diameter import DiameterProfile
from .gaps import BRIDGE_WARNING

__all__ = [
    "ReferenceFit",
    "StenosisReport",
    "interpolated_reference",
    "analyze_profile",
    "crop_profile",
    "obstruction_boundaries",
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


def _reference_polynomial(s: np.ndarray, d: np.ndarray, used: np.ndarray, degree: int) -> Tuple[np.ndarray, np.ndarray]:
    """``(coefficients, reference over all of s)`` of the reference fit on the ``used`` samples.

    A taper fitted on samples bunched at one end can extrapolate to (nearly) nothing across a long lesion; an
    artery does not taper to half its width within one analysed segment, so such a fit falls back to a constant
    (the median of the used samples).
    """
    deg = int(min(degree, max(0, int(used.sum()) - 2)))
    coef = np.polyfit(s[used], d[used], deg)
    ref = np.polyval(coef, s)
    if deg > 0 and float(ref.min()) < 0.5 * float(np.median(d[used])):
        coef = np.array([float(np.median(d[used]))])
        ref = np.full(len(s), coef[0])
    return coef, np.maximum(ref, 1e-9)


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
        coef, ref = _reference_polynomial(s, d, used, degree)
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


def obstruction_boundaries(
    s: np.ndarray,
    d: np.ndarray,
    ref: np.ndarray,
    s_mld: float,
    depth: float,
    threshold_start: float,
    threshold_end: float,
    lo: int,
    hi: int,
    reach: float = 2.5,
) -> Tuple[float, float, Dict[str, Any]]:
    """Obstruction boundaries: where the narrowing ``ref - d`` returns to the reference on each side of the MLD.

    The region more than a threshold below the reference (``threshold_start``..``threshold_end``) misses the
    shallow shoulders of a lesion (about 0.8 of a cosine lesion at a 5 % threshold), and a lower threshold is
    lost in the profile noise. Instead each side of the obstruction is fitted (least squares, grid over the
    half-length ``h``) by a smooth shoulder that starts at the MLD with the lesion depth and reaches the
    reference with zero slope: ``depth x (1 + cos(pi (s - s_mld) / h)) / 2`` for ``|s - s_mld| < h``, 0 beyond;
    the boundary is ``s_mld -+ h``. The window of each fit reaches ``reach`` times the threshold half-extent
    (at least 4 samples) beyond the MLD, inside the analysed samples ``lo..hi``.

    Returns:
        ``(start, end, info)`` in the units of ``s``; ``info`` holds the two half-lengths and fit residuals.
    """
    s = np.asarray(s, float)
    g = np.asarray(ref, float) - np.asarray(d, float)
    step = float(np.median(np.diff(s))) if len(s) > 1 else 1.0
    out: List[float] = []
    info: Dict[str, Any] = {}
    for side, thr_b in (("proximal", threshold_start), ("distal", threshold_end)):
        sign = -1.0 if side == "proximal" else 1.0
        h_thr = max(abs(thr_b - s_mld), step)
        w = max(reach * h_thr, h_thr + 4 * step)
        limit = s[lo] if side == "proximal" else s[hi]
        sel = (sign * (s - s_mld) >= 0) & (sign * (s - s_mld) <= w) & (s >= s[lo]) & (s <= s[hi])
        if depth <= 0 or sel.sum() < 3:
            out.append(float(thr_b))
            info[f"{side}_half_length"] = abs(float(thr_b) - s_mld)
            continue
        u = np.abs(s[sel] - s_mld)
        hs = np.arange(max(0.5 * h_thr, step), max(reach * h_thr, 2 * step) + 1e-9, 0.1 * step)
        model = np.where(u[None, :] < hs[:, None], 0.5 * depth * (1 + np.cos(np.pi * np.minimum(u[None, :] / hs[:, None], 1.0))), 0.0)
        sse = ((model - g[sel][None, :]) ** 2).sum(1)
        h = float(hs[int(np.argmin(sse))])
        b = s_mld + sign * h
        b = float(np.clip(b, s[lo], s[hi])) if sign < 0 else float(np.clip(b, s[lo], limit))
        out.append(b)
        info[f"{side}_half_length"] = h
        info[f"{side}_rms"] = float(np.sqrt(np.min(sse) / sel.sum()))
    return out[0], out[1], info


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
    #: samples of the threshold-phase reference fit (before the refit without the whole obstruction); used by the
    #: automatic search to judge whether a narrowing has healthy reference on both sides. Not serialised.
    fit_used_core: Optional[np.ndarray] = None

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
            if self.profile.edge_from_image is not None:  # method "edge": where the borders came from
                out["profile"]["edge_source"] = np.where(self.profile.edge_from_image, "image", "mask").tolist()
            if self.profile.mask_diameter_px is not None:
                out["profile"]["mask_diameter_mm"] = self.profile.mask_diameter_px * self.mm_per_px
        return jsonable(out, nan_to_none=True)


def _serious(rep: "StenosisReport") -> bool:
    """True when a report has warnings other than the note that a mask gap was bridged through the image."""
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
    max_refits: int = 2,
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
        max_refits: times the reference is fitted again without the whole obstruction (its shallow shoulders
            included, see :func:`obstruction_boundaries`) and the boundaries re-located; 0 = the threshold fit only.
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
    if fit.lesion_end > fit.lesion_start:
        mld, i_sub = _refine_mld(profile.raw_diameter_px * calibration.mm_per_px, d_mm, i, fit, e, e0)
    else:  # no sample of the smoothed profile is below the threshold: a dip of one or two raw samples is noise
        mld, i_sub = float(d_mm[i]), float(i)
    ref = float(np.interp(i_sub, np.arange(len(d_mm)), fit.reference))
    n_s = len(d_mm)
    sa = profile.arc_length_mm
    lo_v = e if e0 is None else e0
    lo_v, hi_v = (lo_v, n_s - 1 - e) if n_s - lo_v - e >= 5 else (0, n_s - 1)
    s_mld = float(np.interp(i_sub, np.arange(n_s), sa))
    l0, l1, shoulder = fit.lesion_start, fit.lesion_end, {}
    refit = 0
    used_core = fit.used.copy()
    if fit.lesion_end > fit.lesion_start:
        for _ in range(max_refits + 1):
            l0, l1, shoulder = obstruction_boundaries(
                sa, d_mm, fit.reference, s_mld, ref - mld, fit.lesion_start, fit.lesion_end, lo_v, hi_v
            )
            l0, l1 = min(l0, fit.lesion_start), max(l1, fit.lesion_end)
            # the shallow shoulders lie less than the threshold below the reference and were used in its fit,
            # pulling it down next to the lesion: fit it again without the whole obstruction
            used2 = fit.used & ((sa < l0) | (sa > l1))
            real = (ref - mld) >= 2.0 * fit.threshold  # a lesion clearly below the threshold, not a noise dip
            if not real or refit >= max_refits or used2.sum() < max(5, degree + 3) or np.array_equal(used2, fit.used):
                break
            coef, fit.reference = _reference_polynomial(sa, d_mm, used2, degree)
            fit.coefficients, fit.used = coef, used2
            ref = float(np.interp(i_sub, np.arange(n_s), fit.reference))
            refit += 1
    ds = (1.0 - mld / ref) * 100.0
    as_ = (1.0 - (mld / ref) ** 2) * 100.0
    warnings = []
    if fit.used.sum() < 0.2 * len(d_mm):
        warnings.append("fewer than 20 % of the profile samples were usable for the reference fit")
    bridged = profile.bridged
    if bridged is not None and np.any(bridged):
        sb = profile.arc_length_mm
        lab, nz = ndimage.label(np.asarray(bridged, bool))
        spans = []
        for k in range(1, nz + 1):
            idx = np.nonzero(lab == k)[0]
            spans.append(f"{sb[idx[0]]:.1f}-{sb[idx[-1]]:.1f} mm")
        warnings.append(f"{BRIDGE_WARNING} at {', '.join(spans)} along the path; diameter from image edges there")
    edge_info: Optional[Dict[str, Any]] = None
    if profile.edge_from_image is not None:
        src = np.asarray(profile.edge_from_image, bool)
        lo_i, hi_i = max(0, int(np.floor(i_sub)) - 1), min(len(src), int(np.ceil(i_sub)) + 2)
        at_mld = bool(np.all(src[lo_i:hi_i]))
        frac = float(src.mean()) if len(src) else 0.0
        edge_info = {
            "method": "image borders: continuous minimum-cost borders + blurred-cylinder fit (mask fallback)",
            "fraction_from_image": frac,
            "mld_from_image": at_mld,
            **{k: v for k, v in profile.details.get("edges", {}).items() if k != "sample_step_px"},
        }
        if not at_mld:
            warnings.append("diameter at the MLD from the mask boundary (the image edges were not usable there)")
        elif frac < 0.5:
            warnings.append(f"only {100 * frac:.0f} % of the profile measured from image edges (rest: mask boundary)")
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
        lesion_length_mm=float(l1 - l0),
        mld_position_mm=float(profile.arc_length_mm[i]),
        mld_rc=tuple(float(v) for v in profile.path_rc[i]),
        lesion_start_mm=float(l0),
        lesion_end_mm=float(l1),
        lesion_start_rc=_interp_rc(profile, l0 / mm),
        lesion_end_rc=_interp_rc(profile, l1 / mm),
        profile=profile,
        reference_mm=fit.reference,
        fit_used=fit.used,
        fit_used_core=used_core,
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
            "edges": edge_info,
            "lesion_definition": (
                "obstruction boundaries where the narrowing (interpolated reference - diameter) returns to the "
                "reference on either side of the MLD: a smooth shoulder depth x (1 + cos(pi u / h)) / 2 fitted to "
                "each side; the lesion core (for the reference fit) is the contiguous region around the MLD more "
                f"than max({lesion_threshold:.0%} of the reference, 2 x robust profile SD) below the reference"
            ),
            "lesion_threshold_length_mm": float(fit.lesion_end - fit.lesion_start),
            "lesion_threshold_start_mm": float(fit.lesion_start),
            "lesion_threshold_end_mm": float(fit.lesion_end),
            "lesion_shoulders_mm": shoulder,
            "reference_refits_without_obstruction": refit,
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
        edge_from_image=None if profile.edge_from_image is None else profile.edge_from_image[sl],
        mask_diameter_px=None if profile.mask_diameter_px is None else profile.mask_diameter_px[sl],
    )
