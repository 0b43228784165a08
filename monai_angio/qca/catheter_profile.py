"""The catheter's image profile: where it can calibrate, and its width with a guidewire inside.

A guiding catheter is the scale of a coronary angiogram, but in a cath lab it is rarely alone in its profile:

- **a guidewire inside it** (a 0.014" = 0.356 mm PCI wire, steel, as dark per mm as the contrast-filled catheter)
  darkens its core beyond the image of one cylinder; a cylinder fit answers with a narrower, denser cylinder and
  the scale comes out too large (cath-lab phantoms: up to 30 % and more);
- **the collimator or an anatomy edge along it** (the catheter enters the field from the image border, often
  along a collimator blade) makes one side of its profile much darker than the other;
- **over-exposure** clips the background at the detector's limit, so the catheter's edges are cut off.

:func:`clear_background` flags the centreline points where none of the last two happens, so the calibration
takes its straight segment there. :func:`median_catheter_profile` aligns the profiles of that straight segment on
their centre and takes their median (one low-noise profile; other vessels crossing it are outvoted), and
:func:`fit_catheter_profile` fits it with the blurred image of a cylinder on a linear background, and with a
cylinder holding a guidewire: a second cylinder of the wire's physical diameter (so its width in pixels is tied to
the catheter's: ``r_wire = R x wire_mm / catheter_mm``) at a free position inside the lumen, with a free density
of at most :data:`MAX_WIRE_TO_CATHETER` times the catheter's central attenuation. The wire model is taken only
where it explains most of the misfit of the plain one (:data:`GUIDEWIRE_SSE_RATIO`) and that misfit is more
than noise (:data:`GUIDEWIRE_MIN_EXPLAINED`), what it leaves is small (:data:`GUIDEWIRE_MAX_MISFIT`: the image is
that of a catheter at all) and its width is not below the plain cylinder's (:data:`GUIDEWIRE_WIDTH_RANGE`).

This module imports no other :mod:`monai_angio.qca` module except :mod:`.edges`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import numpy as np
from scipy import ndimage, optimize

from .edges import cylinder_profile, sample_profiles

__all__ = [
    "GUIDEWIRE_DIAMETER_MM",
    "GUIDEWIRE_SSE_RATIO",
    "GUIDEWIRE_MIN_EXPLAINED",
    "GUIDEWIRE_MAX_MISFIT",
    "GUIDEWIRE_WIDTH_RANGE",
    "MAX_WIRE_TO_CATHETER",
    "CatheterProfileFit",
    "clear_background",
    "median_catheter_profile",
    "catheter_profile_model",
    "fit_catheter_profile",
    "fitted_profile",
    "fit_catheter_with_and_without_wire",
]

GUIDEWIRE_DIAMETER_MM = 0.014 * 25.4
"""Diameter of a coronary (PCI) guidewire, 0.014 inch."""

GUIDEWIRE_SSE_RATIO = 0.7
"""The guidewire model is used where its squared residual is below this fraction of the plain cylinder's ..."""

GUIDEWIRE_MIN_EXPLAINED = 0.005
"""... and the misfit it removes is at least this RMS fraction of the catheter's depth (not just noise) ..."""

GUIDEWIRE_MAX_MISFIT = 0.03
"""... and what it leaves is at most this RMS fraction of the depth (the profile is the image of a catheter) ..."""

GUIDEWIRE_WIDTH_RANGE = (0.95, 2.0)
"""... and its width over the plain cylinder's lies in this range (a wire makes a catheter read narrow, not wide).
Not the mask's width: a network's catheter mask can be as narrow as the plain fit where a wire darkens the core."""

MAX_WIRE_TO_CATHETER = 2.5
"""Upper bound of the wire's central line integral relative to the catheter's (steel vs a contrast-filled lumen)."""


def _normals(tangents: np.ndarray) -> np.ndarray:
    t = np.asarray(tangents, float)
    t = t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
    return np.stack([-t[:, 1], t[:, 0]], axis=1)


def clear_background(
    image: np.ndarray,
    points_rc: np.ndarray,
    tangents: np.ndarray,
    width_px: float,
    gap_px: float = 2.0,
    band_px: float = 4.0,
    max_asymmetry: float = 0.35,
) -> Tuple[np.ndarray, Dict[str, Any]]:
    """Centreline points where the catheter lies on an even, unclipped background.

    Args:
        image: ``(H, W)`` image, vessels dark.
        points_rc: ``(N, 2)`` catheter centreline points.
        tangents: ``(N, 2)`` their unit tangents.
        width_px: rough catheter width (px).
        gap_px: the background bands start this far beyond the catheter's edge.
        band_px: width of each background band.
        max_asymmetry: a point is uneven where its two background bands differ by more than this fraction of
            the catheter's depth (mean background minus its centre): a collimator blade or an anatomy edge along
            the catheter, which no linear background can follow. A catheter not darker than its background fails
            too. A point is clipped where the catheter's rim (0.7-1.0 of its half width) reaches a level the
            detector saturated at (the image's maximum, held by at least 0.1 % of its pixels): its true edges are
            cut off.

    Returns:
        ``(ok (N,) bool, info)``; ``info`` counts the points that failed each check.
    """
    img = np.asarray(image, np.float64)
    pts = np.asarray(points_rc, float).reshape(-1, 2)
    nrm = _normals(np.asarray(tangents, float).reshape(-1, 2))
    n = len(pts)
    half = 0.5 * float(width_px)
    band = np.arange(half + gap_px, half + gap_px + band_px + 1e-9, 0.5)
    left = sample_profiles(img, pts, nrm, -band)
    right = sample_profiles(img, pts, nrm, band)
    core = sample_profiles(img, pts, nrm, np.array([-0.25 * half, 0.0, 0.25 * half]))
    rim = sample_profiles(img, pts, nrm, np.array([-1.0, -0.85, -0.7, 0.7, 0.85, 1.0]) * half)
    lo_v, hi_v = float(np.min(img)), float(np.max(img))
    span = max(hi_v - lo_v, 1e-12)
    tol = 0.002 * span
    # a level the detector clipped at holds a visible share of the image (one bright pixel is not saturation);
    # where the catheter's own rim reaches it, its true edges are cut off
    clipped = np.zeros(n, bool)
    if np.mean(img >= hi_v - tol) >= 0.001:
        clipped |= np.any(rim >= hi_v - tol, axis=1)
    bl, br = np.median(left, axis=1), np.median(right, axis=1)
    depth = 0.5 * (bl + br) - np.min(core, axis=1)
    uneven = (depth <= 0) | (np.abs(bl - br) > max_asymmetry * np.maximum(depth, 1e-12))
    ok = ~clipped & ~uneven
    return ok, {"clipped": int(clipped.sum()), "uneven": int((uneven & ~clipped).sum()), "points": int(n)}


def median_catheter_profile(
    image: np.ndarray, points_rc: np.ndarray, width_px: float, step: float = 0.25
) -> Tuple[np.ndarray, np.ndarray, int]:
    """The median image profile across a straight catheter segment, each profile centred on its dip.

    Args:
        image: ``(H, W)`` image, vessels dark.
        points_rc: ``(N, 2)`` centreline points of the segment, about 1 px apart.
        width_px: rough catheter width (px), sets the reach (the catheter plus its width of background per side).
        step: sample spacing across the profile (px).

    Returns:
        ``(offsets (K,), median profile (K,), number of profiles)``.
    """
    pts = np.asarray(points_rc, float).reshape(-1, 2)
    t = np.gradient(pts, axis=0) if len(pts) > 1 else np.array([[0.0, 1.0]])
    if len(pts) > 5:
        t = ndimage.gaussian_filter1d(t, 2.0, axis=0, mode="nearest")
    nrm = _normals(t)
    half = 0.5 * float(width_px)
    reach = half + max(6.0, float(width_px))
    x = np.arange(-reach - 3.0, reach + 3.0 + 1e-9, step)
    y = sample_profiles(np.asarray(image, np.float64), pts, nrm, x, order=3)
    win = np.abs(x) <= 1.3 * half + 1.0
    base = np.median(y[:, ~win], axis=1, keepdims=True)
    dip = np.clip(base - y, 0.0, None) * win[None, :]
    c = (dip * x[None, :]).sum(1) / np.maximum(dip.sum(1), 1e-12)
    if len(c) > 4:  # a straight segment: its centre offsets follow a smooth curve
        idx = np.arange(len(c))
        c = np.polyval(np.polyfit(idx, c, 2), idx)
    xs = np.arange(-reach, reach + 1e-9, step)
    aligned = np.stack([np.interp(xs + ci, x, yi) for ci, yi in zip(c, y)])
    return xs, np.median(aligned, axis=0), int(len(pts))


def catheter_profile_model(
    x: np.ndarray,
    centre: float,
    radius: float,
    mu: float,
    sigma: float,
    wire_mu: float = 0.0,
    wire_offset: float = 0.0,
    wire_radius: float = 0.0,
) -> np.ndarray:
    """Absorbed fraction ``G_sigma * (1 - exp(-(mu chord_R + wire_mu chord_r)))`` of a catheter holding a wire.

    Args:
        x: offsets (px).
        centre, radius: the catheter's centre offset and outer radius (px).
        mu: its attenuation per px of path.
        sigma: Gaussian PSF (px).
        wire_mu, wire_offset, wire_radius: the wire's attenuation per px, offset from the catheter's centre and
            radius (px); ``wire_mu = 0`` is the catheter alone (:func:`~monai_angio.qca.edges.cylinder_profile`).
    """
    return 1.0 - cylinder_profile(x, centre, radius, mu, sigma, inner_mu=wire_mu, inner_offset=wire_offset,
                                  inner_radius=wire_radius)


@dataclass
class CatheterProfileFit:
    """A fit of :func:`catheter_profile_model` to a median catheter profile.

    Attributes:
        radius: outer radius (px); the width is ``2 x radius``.
        mu: attenuation per px of path.
        sigma: PSF (px).
        centre: centre offset (px).
        sse: sum of squared residuals.
        wire_mu: the wire's attenuation per px (0 for the plain cylinder).
        wire_offset: the wire's offset from the catheter's centre (px).
        wire_radius: the wire's radius (px; 0 for the plain cylinder).
    """

    radius: float
    mu: float
    sigma: float
    centre: float
    sse: float
    wire_mu: float = 0.0
    wire_offset: float = 0.0
    wire_radius: float = 0.0

    @property
    def width(self) -> float:
        return 2.0 * self.radius


def fit_catheter_profile(
    x: np.ndarray,
    y: np.ndarray,
    radius0: float,
    wire_to_catheter: Optional[float] = None,
    sigmas0: Tuple[float, ...] = (0.6, 1.2),
) -> CatheterProfileFit:
    """Fit the blurred image of a catheter (with or without a guidewire) on a linear background.

    ``y = (b0 + b1 x) (1 - D(x))`` with ``D`` from :func:`catheter_profile_model`; ``b0, b1`` are solved linearly,
    ``centre, radius, log mu, log sigma`` (and for the wire its density and position) by bounded least squares
    from three radii and two PSF widths.

    Args:
        x: ``(K,)`` offsets (px).
        y: ``(K,)`` profile (vessels dark, intensity proportional to transmitted intensity).
        radius0: rough outer radius (px).
        wire_to_catheter: ``None`` for the catheter alone; else the wire's diameter over the catheter's (mm / mm):
            the wire radius in px is ``radius x wire_to_catheter``.
        sigmas0: initial PSF widths tried.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    wire = wire_to_catheter is not None and wire_to_catheter > 0

    def unpack(p: np.ndarray) -> Tuple[float, ...]:
        c, r, lmu, ls = float(p[0]), float(p[1]), float(p[2]), float(p[3])
        mu = float(np.exp(lmu))
        if not wire:
            return c, r, mu, float(np.exp(ls)), 0.0, 0.0, 0.0
        rw = r * float(wire_to_catheter)
        mu_w = MAX_WIRE_TO_CATHETER * mu * r / rw / (1.0 + np.exp(-float(p[4])))
        return c, r, mu, float(np.exp(ls)), mu_w, (r - rw) * float(np.tanh(p[5])), rw

    def residual(p: np.ndarray) -> np.ndarray:
        return _on_background(x, y, 1.0 - catheter_profile_model(x, *unpack(p))) - y

    r0 = max(float(radius0), 0.5)
    lo = [-r0, 0.3, -8.0, np.log(0.2)] + ([-10.0, -3.0] if wire else [])
    hi = [r0, 3.0 * r0, 3.0, np.log(4.0)] + ([10.0, 3.0] if wire else [])
    best = None
    for rr in (0.9 * r0, r0, 1.1 * r0):
        for s0 in sigmas0:
            p0 = [0.0, rr, np.log(0.1), np.log(s0)] + ([-1.0, 0.0] if wire else [])
            try:
                res = optimize.least_squares(residual, p0, bounds=(lo, hi), x_scale="jac")
            except (ValueError, np.linalg.LinAlgError):
                continue
            if best is None or res.cost < best.cost:
                best = res
    if best is None:
        raise ValueError("the catheter profile fit failed")
    c, r, mu, s, mu_w, d, rw = unpack(best.x)
    return CatheterProfileFit(radius=r, mu=mu, sigma=s, centre=c, sse=2.0 * float(best.cost), wire_mu=mu_w,
                              wire_offset=d, wire_radius=rw)


def _on_background(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``(b0 + b1 x) t`` with the ``b0, b1`` that fit ``y`` best (least squares; ``x`` scaled for conditioning)."""
    scale = max(float(np.max(np.abs(x))), 1.0)
    basis = np.stack([t, (x / scale) * t], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return basis @ coef


def fitted_profile(fit: CatheterProfileFit, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The profile ``fit`` predicts at ``x``, with the linear background that fits ``y`` best (for plots)."""
    x = np.asarray(x, float)
    t = 1.0 - catheter_profile_model(x, fit.centre, fit.radius, fit.mu, fit.sigma, fit.wire_mu, fit.wire_offset,
                                     fit.wire_radius)
    return _on_background(x, np.asarray(y, float), t)


def fit_catheter_with_and_without_wire(
    image: np.ndarray,
    points_rc: np.ndarray,
    width_px: float,
    french: float,
    wire_mm: float = GUIDEWIRE_DIAMETER_MM,
) -> Tuple[np.ndarray, np.ndarray, int, CatheterProfileFit, CatheterProfileFit]:
    """The median profile of a straight catheter segment, fitted as a plain cylinder and holding a wire.

    Args:
        image: ``(H, W)`` image, vessels dark.
        points_rc: ``(N, 2)`` centreline points of the segment.
        width_px: rough catheter width (px).
        french: the catheter's size (French; ``french / 3`` mm across).
        wire_mm: the guidewire's diameter (mm).

    Returns:
        ``(offsets, median profile, number of profiles, plain fit, wire fit)``.
    """
    x, y, n = median_catheter_profile(image, points_rc, width_px)
    plain = fit_catheter_profile(x, y, 0.5 * width_px)
    wired = fit_catheter_profile(x, y, 0.5 * width_px, wire_to_catheter=float(wire_mm) / (float(french) / 3.0))
    return x, y, n, plain, wired
