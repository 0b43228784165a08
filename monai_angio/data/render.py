"""Perspective projection and X-ray image formation for synthetic angiograms.

Geometry: point source at ``z = -SOD``, flat detector at ``z = SID - SOD`` (isocentre at ``z = 0``). A point
``(x, y, z)`` (mm) lands on detector pixel ``(row, col) = (y, x) * SID / (SOD + z) / imager_spacing + centre``,
so the true spacing in the isocentre plane is ``imager_spacing * SOD / SID`` mm per pixel.

Image formation (Beer-Lambert): ``I = I0 * exp(-(A_background + mu * C * L_artery + mu_cath * L_catheter))`` where
``L`` is the chord length (mm) of the X-ray through the lumen, ``2 * sqrt(r**2 - d**2)`` for a ray at distance
``d`` from the axis of a tube of radius ``r``; then detector blur (Gaussian PSF), vignetting and quantum
(Poisson) noise at a given number of photons per pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
from scipy.ndimage import gaussian_filter, zoom
from scipy.special import expit

__all__ = [
    "ProjectionGeometry",
    "rasterize_tube",
    "anatomical_background",
    "form_image",
    "detector_response",
    "combine_tubes",
]


@dataclass
class ProjectionGeometry:
    """Cone-beam projection geometry of one acquisition.

    Attributes:
        sid_mm: source-to-image (detector) distance.
        sod_mm: source-to-object (isocentre / patient) distance.
        imager_spacing_mm: detector pixel size (square pixels).
        size: ``(H, W)`` in pixels.
    """

    sid_mm: float
    sod_mm: float
    imager_spacing_mm: float
    size: Tuple[int, int]

    @property
    def magnification(self) -> float:
        """Magnification of the isocentre plane (SID / SOD)."""
        return self.sid_mm / self.sod_mm

    @property
    def spacing_mm(self) -> float:
        """True mm per pixel in the isocentre plane."""
        return self.imager_spacing_mm * self.sod_mm / self.sid_mm

    def project(self, points: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Project ``(N, 3)`` mm points; returns ``(N, 2)`` ``(row, col)`` pixel coordinates and ``(N,)`` pixel scale.

        The pixel scale is the number of pixels per mm at each point's depth (multiply a diameter in mm by it
        to get the projected diameter in pixels).
        """
        pts = np.asarray(points, float)
        scale = self.sid_mm / (self.sod_mm + pts[:, 2]) / self.imager_spacing_mm
        h, w = self.size
        rc = np.stack([pts[:, 1] * scale + (h - 1) / 2.0, pts[:, 0] * scale + (w - 1) / 2.0], 1)
        return rc, scale

    def to_dict(self) -> Dict[str, float]:
        """Geometry as plain numbers (for ground-truth JSON and DICOM tags)."""
        return {
            "sid_mm": float(self.sid_mm),
            "sod_mm": float(self.sod_mm),
            "imager_spacing_mm": float(self.imager_spacing_mm),
            "magnification": float(self.magnification),
            "spacing_mm": float(self.spacing_mm),
            "size": [int(self.size[0]), int(self.size[1])],
        }


def rasterize_tube(
    rc: np.ndarray, radius_px: np.ndarray, radius_mm: np.ndarray, shape: Tuple[int, int], chunk: int = 12
) -> Optional[Tuple[Tuple[slice, slice], np.ndarray, np.ndarray]]:
    """Exact pixel-centre rasterisation of a projected tube (union of tapered capsules).

    For every pixel centre near the polyline the nearest axis point (per capsule, parameter ``t`` clamped to the
    capsule) and the interpolated radius ``R`` give the inside test ``d <= R`` and the lumen chord length
    ``2 * r_mm * sqrt(1 - d**2 / R**2)`` (mm).

    Args:
        rc: ``(N, 2)`` projected centreline (row, col) in pixels of the target grid.
        radius_px: ``(N,)`` projected radius in pixels.
        radius_mm: ``(N,)`` true radius in mm (chord lengths are in mm).
        shape: target grid ``(H, W)``.
        chunk: capsules processed together.

    Returns:
        ``((row_slice, col_slice), inside, chord_mm)`` for the tube's bounding box, or ``None`` if outside.
    """
    rc = np.asarray(rc, float)
    H, W = shape
    pad = float(np.max(radius_px)) + 1.5
    r0 = max(int(math.floor(rc[:, 0].min() - pad)), 0)
    r1 = min(int(math.ceil(rc[:, 0].max() + pad)) + 1, H)
    c0 = max(int(math.floor(rc[:, 1].min() - pad)), 0)
    c1 = min(int(math.ceil(rc[:, 1].max() + pad)) + 1, W)
    if r0 >= r1 or c0 >= c1:
        return None
    qmap = np.full((r1 - r0, c1 - c0), -1.0, np.float32)
    chord = np.zeros((r1 - r0, c1 - c0), np.float32)
    if len(rc) == 1:
        rc = np.concatenate([rc, rc])
        radius_px = np.repeat(radius_px, 2)
        radius_mm = np.repeat(radius_mm, 2)
    n = len(rc)
    for s in range(0, n - 1, chunk):
        e = min(s + chunk, n - 1)
        A, B = rc[s:e], rc[s + 1 : e + 1]
        RA, RB = radius_px[s:e], radius_px[s + 1 : e + 1]
        MA, MB = radius_mm[s:e], radius_mm[s + 1 : e + 1]
        p = float(max(RA.max(), RB.max())) + 1.0
        lr0 = max(int(math.floor(min(A[:, 0].min(), B[:, 0].min()) - p)), r0)
        lr1 = min(int(math.ceil(max(A[:, 0].max(), B[:, 0].max()) + p)) + 1, r1)
        lc0 = max(int(math.floor(min(A[:, 1].min(), B[:, 1].min()) - p)), c0)
        lc1 = min(int(math.ceil(max(A[:, 1].max(), B[:, 1].max()) + p)) + 1, c1)
        if lr0 >= lr1 or lc0 >= lc1:
            continue
        rr = np.arange(lr0, lr1, dtype=np.float32)[None, :, None]
        cc = np.arange(lc0, lc1, dtype=np.float32)[None, None, :]
        a0, a1 = A[:, 0, None, None].astype(np.float32), A[:, 1, None, None].astype(np.float32)
        D = (B - A).astype(np.float32)
        d0, d1 = D[:, 0, None, None], D[:, 1, None, None]
        L2 = np.maximum(d0 * d0 + d1 * d1, 1e-12)
        ra, ca = rr - a0, cc - a1
        t = np.clip((ra * d0 + ca * d1) / L2, 0.0, 1.0)
        dr, dc = ra - t * d0, ca - t * d1
        R = RA[:, None, None].astype(np.float32) + t * (RB - RA)[:, None, None].astype(np.float32)
        q = 1.0 - (dr * dr + dc * dc) / (R * R)
        rm = MA[:, None, None].astype(np.float32) + t * (MB - MA)[:, None, None].astype(np.float32)
        ch = (2.0 * rm * np.sqrt(np.maximum(q, 0.0))).max(0)
        sl = (slice(lr0 - r0, lr1 - r0), slice(lc0 - c0, lc1 - c0))
        np.maximum(qmap[sl], q.max(0), out=qmap[sl])
        np.maximum(chord[sl], ch, out=chord[sl])
    return (slice(r0, r1), slice(c0, c1)), qmap >= 0.0, chord


def anatomical_background(
    rng: np.random.Generator, shape: Tuple[int, int], strength: float = 1.0, ribs: bool = True
) -> np.ndarray:
    """Low-frequency attenuation map (dimensionless line integral) mimicking spine, diaphragm, heart and ribs.

    Args:
        rng: random generator.
        shape: ``(H, W)``.
        strength: global scale (0 gives a flat, unattenuated field).
        ribs: add faint curved rib bands.

    Returns:
        ``(H, W)`` float32 attenuation, roughly in [0.1, 1.3] for ``strength = 1``.
    """
    H, W = shape
    y = (np.arange(H, dtype=np.float32)[:, None] + 0.5) / H  # 0..1 rows
    x = (np.arange(W, dtype=np.float32)[None, :] + 0.5) / W
    sig = lambda v, w: expit(v / w)  # noqa: E731
    a = np.full((H, W), 0.12, np.float32)
    # spine: vertical band with vertebral modulation
    xs, ws = rng.uniform(0.15, 0.85), rng.uniform(0.12, 0.2)
    tilt = rng.uniform(-0.1, 0.1)
    xc = xs + tilt * (y - 0.5)
    band = sig(ws / 2 - np.abs(x - xc), 0.02)
    period, ph = rng.uniform(0.12, 0.2), rng.uniform(0, 2 * np.pi)
    a += 0.35 * band * (0.8 + 0.2 * np.cos(2 * np.pi * y / period + ph))
    # heart shadow: soft ellipse
    cy, cx = rng.uniform(0.45, 0.65), rng.uniform(0.35, 0.65)
    ry, rx = rng.uniform(0.3, 0.45), rng.uniform(0.3, 0.45)
    ell = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2
    a += 0.25 * sig(1.0 - ell, 0.15)
    # diaphragm dome at the bottom
    y0, curv, x0 = rng.uniform(0.7, 0.95), rng.uniform(0.4, 1.0), rng.uniform(0.2, 0.8)
    a += 0.45 * sig(y - (y0 + curv * (x - x0) ** 2), 0.03)
    if ribs:
        for k in range(int(rng.integers(3, 6))):
            yc = rng.uniform(-0.1, 1.0)
            bend = rng.uniform(0.2, 0.6) * (1 if rng.random() < 0.5 else -1)
            thick = rng.uniform(0.025, 0.045)
            yy = yc + bend * (x - rng.uniform(0.2, 0.8)) ** 2
            a += 0.06 * sig(thick / 2 - np.abs(y - yy), 0.006)
    # smooth random texture
    lo = rng.standard_normal((6, 6)).astype(np.float32)
    tex = zoom(lo, (H / 6, W / 6), order=3, mode="nearest", grid_mode=True)[:H, :W]
    a += 0.03 * tex
    return (strength * np.clip(a, 0.0, None)).astype(np.float32)


def form_image(
    attenuation: np.ndarray,
    rng: np.random.Generator,
    dose: Optional[float] = 3000.0,
    blur_sigma_px: float = 0.7,
    vignetting: float = 0.15,
) -> np.ndarray:
    """Detector image from a total attenuation map: blur, vignetting, Poisson noise, scaled to [0, 1].

    Args:
        attenuation: ``(H, W)`` line integral ``sum(mu * L)`` (dimensionless).
        rng: random generator (noise).
        dose: photons per pixel for an unattenuated ray; ``None`` or ``<= 0`` disables quantum noise.
        blur_sigma_px: Gaussian PSF sigma in pixels (0 disables).
        vignetting: relative intensity loss at the image corners (0 disables).

    Returns:
        ``(H, W)`` float32 image in [0, 1] (1 = unattenuated centre of the field), vessels dark.
    """
    inten = np.exp(-attenuation.astype(np.float32))
    return detector_response(inten, rng, dose, blur_sigma_px, vignetting)


def detector_response(
    intensity: np.ndarray,
    rng: np.random.Generator,
    dose: Optional[float] = 3000.0,
    blur_sigma_px: float = 0.7,
    vignetting: float = 0.15,
) -> np.ndarray:
    """Apply detector blur, vignetting and quantum noise to a transmitted-intensity map in [0, 1]."""
    inten = intensity.astype(np.float32, copy=True)
    if blur_sigma_px and blur_sigma_px > 0:
        inten = gaussian_filter(inten, blur_sigma_px, mode="nearest")
    H, W = inten.shape
    if vignetting and vignetting > 0:
        y = (np.arange(H, dtype=np.float32)[:, None] - (H - 1) / 2) / (H / 2)
        x = (np.arange(W, dtype=np.float32)[None, :] - (W - 1) / 2) / (W / 2)
        inten *= 1.0 - vignetting * (x * x + y * y) / 2.0
    if dose is not None and dose > 0:
        inten = rng.poisson(np.clip(inten, 0, None) * dose).astype(np.float32) / np.float32(dose)
    return np.clip(inten, 0.0, 1.0).astype(np.float32)


def combine_tubes(
    maps: List[Optional[Tuple[Tuple[slice, slice], np.ndarray, np.ndarray]]],
    parents: List[Optional[int]],
    origins_rc: List[np.ndarray],
    origin_radius_px: List[float],
    shape: Tuple[int, int],
) -> np.ndarray:
    """Sum the chord maps of several tubes, merging each child with its parent near the bifurcation.

    Overlapping vessels add their path lengths (crossings look darker, as in real angiograms), except within a
    disk around a child's origin where the lumens merge: there the child adds only ``max(c - p, 0)``.
    """
    total = np.zeros(shape, np.float32)
    for k, m in enumerate(maps):
        if m is None:
            continue
        sl, _, ch = m
        contrib = ch
        pk = parents[k]
        if pk is not None and maps[pk] is not None:
            psl, _, pch = maps[pk]
            pfull = np.zeros(shape, np.float32)
            pfull[psl] = pch
            p = pfull[sl]
            rr = np.arange(sl[0].start, sl[0].stop)[:, None]
            cc = np.arange(sl[1].start, sl[1].stop)[None, :]
            o = origins_rc[k]
            disk = (rr - o[0]) ** 2 + (cc - o[1]) ** 2 <= (3.0 * origin_radius_px[k] + 2.0) ** 2
            contrib = np.where(disk, np.maximum(ch - p, 0.0), ch)
        total[sl] += contrib
    return total
