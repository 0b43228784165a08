"""3D geometry of synthetic coronary trees and catheters (millimetres, isocentre coordinates).

Coordinates: ``x`` runs along image columns, ``y`` along image rows (downwards), ``z`` from the X-ray source
towards the detector; the isocentre plane is ``z = 0``. Every tube is a polyline sampled every ``ds`` mm with a
diameter (mm) per point. Trees are built from smooth random curves with bounded curvature, tapering diameters,
Murray-like bifurcations (``d_parent**3 = d_continuation**3 + d_branch**3``) and cosine-shaped concentric stenoses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.ndimage import gaussian_filter1d

__all__ = [
    "Tube3D",
    "LesionSpec",
    "random_curve",
    "build_lca",
    "build_rca",
    "build_catheter",
    "place_stenoses",
    "apply_stenosis",
    "cardiac_displacement",
    "MAJOR_BAND",
]

#: origin diameters inside this band (mm) are pushed out of it so that the 2 mm "major" criterion is unambiguous.
MAJOR_BAND: Tuple[float, float] = (1.85, 2.15)


@dataclass
class Tube3D:
    """One tube (artery segment or catheter) as a 3D polyline.

    Attributes:
        name: segment name (``"LAD"``, ``"D1"``, ``"catheter"``...).
        parent: name of the parent segment, ``None`` for roots and the catheter.
        parent_index: index on the parent's polyline where this segment originates.
        points: ``(N, 3)`` positions in mm.
        reference: ``(N,)`` un-narrowed (tapering) diameter in mm.
        diameter: ``(N,)`` lumen diameter in mm (reference with stenoses applied).
        ds: arc-length step in mm.
        is_catheter: whether this is the catheter.
        branch_indices: indices on this tube where children leave.
    """

    name: str
    parent: Optional[str]
    parent_index: Optional[int]
    points: np.ndarray
    reference: np.ndarray
    diameter: np.ndarray
    ds: float
    is_catheter: bool = False
    branch_indices: List[int] = field(default_factory=list)

    @property
    def arclength(self) -> np.ndarray:
        """Arc length (mm) of every sample from the first one."""
        return np.arange(len(self.points)) * self.ds

    @property
    def origin_diameter(self) -> float:
        """Reference diameter at the origin (mm), used for the clinical major-branch criterion."""
        return float(self.reference[0])


@dataclass
class LesionSpec:
    """A stenosis placed on a tube (3D ground truth, before projection)."""

    segment: str
    center_index: int
    percent_diameter: float
    length_mm: float
    reference_diameter_mm: float

    @property
    def mld_mm(self) -> float:
        """Minimal lumen diameter = reference x (1 - %DS / 100)."""
        return self.reference_diameter_mm * (1.0 - self.percent_diameter / 100.0)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _avoid_band(d: float, band: Tuple[float, float] = MAJOR_BAND) -> float:
    """Push a diameter out of the ambiguous band around the 2 mm major-branch threshold."""
    lo, hi = band
    if lo < d < hi:  # reflect about the nearer edge of the band
        return 2 * lo - d if d < 0.5 * (lo + hi) else 2 * hi - d
    return d


def random_curve(
    rng: np.random.Generator,
    start: Sequence[float],
    heading: float,
    length: float,
    ds: float,
    half_fov: float,
    curvature_bias: float = 0.0,
    curvature_std: float = 0.012,
    corr_mm: float = 12.0,
    max_curvature: float = 0.08,
    slope_std: float = 0.08,
    depth_mm: float = 10.0,
    steer_margin: float = 0.08,
) -> np.ndarray:
    """Smooth random 3D curve with bounded curvature, gently steered to stay inside the field of view.

    Args:
        rng: random generator.
        start: ``(x, y, z)`` start point in mm.
        heading: initial in-plane direction (radians from +x towards +y).
        length: curve length in mm.
        ds: sample step in mm.
        half_fov: half the field of view (mm) at the isocentre; the curve is steered away from its border.
        curvature_bias: constant in-plane curvature (1/mm), e.g. for the C-shaped RCA.
        curvature_std: standard deviation of the random curvature (1/mm).
        corr_mm: correlation length of the random curvature (mm).
        max_curvature: curvature bound (1/mm); radius of curvature >= 1/max_curvature.
        slope_std: standard deviation of the out-of-plane slope dz/ds.
        depth_mm: soft bound on |z| (mm); ``<= 0`` keeps the curve in the plane of its start point.
        steer_margin: fraction of the FOV near the border where steering acts.

    Returns:
        ``(N, 3)`` points, ``N = round(length / ds) + 1``.
    """
    n = max(2, int(round(length / ds)) + 1)
    sig = max(corr_mm / ds, 1.0)
    norm = math.sqrt(2.0 * math.sqrt(math.pi) * sig)
    kappa = curvature_bias + curvature_std * norm * gaussian_filter1d(rng.standard_normal(n), sig, mode="nearest")
    slope = slope_std * norm * gaussian_filter1d(rng.standard_normal(n), sig, mode="nearest")
    pts = np.empty((n, 3))
    x, y, z = (float(v) for v in start)
    th = float(heading)
    lim = half_fov * (1.0 - steer_margin)
    for i in range(n):
        pts[i] = (x, y, z)
        k = float(kappa[i])
        # steer back into the field of view when close to its border and heading outwards
        dx, dy = math.cos(th), math.sin(th)
        over_x = (abs(x) - lim) / (half_fov * steer_margin + 1e-9)
        over_y = (abs(y) - lim) / (half_fov * steer_margin + 1e-9)
        if (over_x > 0 and x * dx > 0) or (over_y > 0 and y * dy > 0):
            # turn towards the centre
            cross = dx * (-y) - dy * (-x)
            k = math.copysign(max_curvature, cross)
        k = max(-max_curvature, min(max_curvature, k))
        if depth_mm > 0:
            sl = max(-0.35, min(0.35, float(slope[i]) - 0.1 * z / depth_mm))
        else:  # planar tree
            sl = 0.0
        c = 1.0 / math.sqrt(1.0 + sl * sl)
        x += ds * c * dx
        y += ds * c * dy
        z += ds * c * sl
        th += k * ds
    return pts


def _smooth_steps(s: np.ndarray, positions: Sequence[float], factors: Sequence[float], width: float) -> np.ndarray:
    out = np.ones_like(s)
    for p, f in zip(positions, factors):
        out *= 1.0 + (f - 1.0) / (1.0 + np.exp(-(s - p) / width))
    return out


def _tangent_heading(points: np.ndarray, i: int) -> float:
    j0, j1 = max(i - 2, 0), min(i + 2, len(points) - 1)
    d = points[j1] - points[j0]
    return math.atan2(d[1], d[0])


@dataclass
class _BranchPlan:
    name: str
    frac: float  # position along parent (fraction of length)
    diameter: float  # wanted origin diameter (mm)
    angle: float  # radians, signed, relative to the parent heading
    length: float  # mm
    end_ratio: float  # end diameter / origin diameter
    curvature_bias: float = 0.0
    children: List["_BranchPlan"] = field(default_factory=list)


def _grow(
    rng: np.random.Generator,
    name: str,
    parent: Optional[str],
    parent_index: Optional[int],
    start: np.ndarray,
    heading: float,
    length: float,
    d0: float,
    d_end: float,
    branches: List[_BranchPlan],
    ds: float,
    half_fov: float,
    depth_mm: float,
    curvature_bias: float = 0.0,
    out: Optional[List[Tube3D]] = None,
) -> List[Tube3D]:
    """Grow one tube and, recursively, its planned branches (Murray-like diameter steps at branch points)."""
    out = [] if out is None else out
    pts = random_curve(rng, start, heading, length, ds, half_fov, curvature_bias=curvature_bias, depth_mm=depth_mm)
    n = len(pts)
    s = np.arange(n) * ds
    total = s[-1]
    branches = sorted(branches, key=lambda b: b.frac)
    # Murray steps with the untapered profile, then a linear taper that reaches d_end at the end
    idx, rel, factors = [], [], []
    d_loc = d0
    for b in branches:
        i = int(np.clip(round(b.frac * (n - 1)), 3, n - 4))
        ratio = min(b.diameter / d_loc, 0.85)
        f = (1.0 - ratio**3) ** (1.0 / 3.0)
        idx.append(i)
        rel.append(ratio)
        factors.append(f)
        d_loc *= f
    tau = float(np.clip(d_end / d_loc, 0.3, 1.0))
    lin = 1.0 - (1.0 - tau) * s / max(total, 1e-6)
    steps = _smooth_steps(s, [s[i] + 1.5 for i in idx], factors, width=0.6)
    ref = d0 * lin * steps
    tube = Tube3D(name, parent, parent_index, pts, ref, ref.copy(), ds, branch_indices=list(idx))
    out.append(tube)
    for b, i, r in zip(branches, idx, rel):
        d_local = float(d0 * lin[i] * _smooth_steps(s[i : i + 1], [s[j] + 1.5 for j in idx], factors, 0.6)[0])
        d_b = _avoid_band(r * d_local)
        h = _tangent_heading(pts, i) + b.angle
        _grow(
            rng, b.name, name, i, pts[i].copy(), h, b.length, d_b, d_b * b.end_ratio, b.children, ds, half_fov,
            depth_mm, b.curvature_bias, out,
        )
    return out


def _spread(rng: np.random.Generator, k: int, lo: float, hi: float) -> List[float]:
    """k positions in [lo, hi], sorted, roughly evenly spread with jitter."""
    if k <= 0:
        return []
    edges = np.linspace(lo, hi, k + 1)
    return sorted(float(rng.uniform(edges[i], edges[i + 1])) for i in range(k))


def _diam(rng: np.random.Generator, lo: float, hi: float) -> float:
    return _avoid_band(_u(rng, lo, hi))


def build_lca(rng: np.random.Generator, fov_mm: float, ds: float, depth_mm: float = 10.0) -> List[Tube3D]:
    """Left coronary artery: left main -> LAD (diagonals, septals) + LCx (obtuse marginals).

    Args:
        rng: random generator.
        fov_mm: field of view at the isocentre (mm); lengths scale with it, diameters do not.
        ds: sample step (mm).
        depth_mm: soft bound on the out-of-plane coordinate (mm).

    Returns:
        tubes in parent-before-child order, the left main first.
    """
    F, h = fov_mm, fov_mm / 2
    ostium = np.array([F * _u(rng, -0.3, -0.12), F * _u(rng, -0.3, -0.2), 0.0])
    h_lm = math.radians(_u(rng, 10, 40))
    d_lm = _u(rng, 3.9, 4.6)
    lm_len = F * _u(rng, 0.06, 0.1)
    ratio = _u(rng, 0.78, 0.86)
    d_lad = d_lm * ratio
    d_lcx = _avoid_band((d_lm**3 - d_lad**3) ** (1 / 3))
    tubes = _grow(rng, "LM", None, None, ostium, h_lm, lm_len, d_lm, d_lm * _u(rng, 0.93, 1.0), [], ds, h, depth_mm)
    lm = tubes[0]
    end = lm.points[-1].copy()
    h_end = _tangent_heading(lm.points, len(lm.points) - 1)
    d_end = float(lm.reference[-1])
    # rescale daughters to the actual LM end diameter (Murray)
    scale = d_end / d_lm
    d_lad, d_lcx = d_lad * scale, _avoid_band(d_lcx * scale)
    side = -1.0  # diagonals on the LCx side, septals on the other
    diag = [
        _BranchPlan(f"D{i + 1}", f, _diam(rng, 1.4, 2.7), side * math.radians(_u(rng, 30, 55)),
                    F * _u(rng, 0.22, 0.4), _u(rng, 0.5, 0.7))
        for i, f in enumerate(_spread(rng, int(rng.integers(2, 4)), 0.12, 0.65))
    ]
    sept = [
        _BranchPlan(f"S{i + 1}", f, _u(rng, 0.8, 1.4), -side * math.radians(_u(rng, 40, 70)),
                    F * _u(rng, 0.08, 0.18), _u(rng, 0.5, 0.7))
        for i, f in enumerate(_spread(rng, int(rng.integers(2, 4)), 0.1, 0.6))
    ]
    _grow(rng, "LAD", "LM", len(lm.points) - 1, end, h_end + math.radians(_u(rng, 30, 50)), F * _u(rng, 0.65, 0.85),
          d_lad, _u(rng, 1.2, 1.6), diag + sept, ds, h, depth_mm, curvature_bias=_u(rng, -0.004, 0.004), out=tubes)
    oms = [
        _BranchPlan(f"OM{i + 1}", f, _diam(rng, 1.5, 2.7), math.radians(_u(rng, 30, 60)),
                    F * _u(rng, 0.2, 0.38), _u(rng, 0.5, 0.7))
        for i, f in enumerate(_spread(rng, int(rng.integers(1, 4)), 0.2, 0.75))
    ]
    lcx_len = F * _u(rng, 0.45, 0.65)
    _grow(rng, "LCx", "LM", len(lm.points) - 1, end, h_end - math.radians(_u(rng, 45, 75)), lcx_len, d_lcx,
          _u(rng, 1.2, 1.7), oms, ds, h, depth_mm, curvature_bias=math.radians(_u(rng, 60, 110)) / lcx_len, out=tubes)
    return tubes


def build_rca(rng: np.random.Generator, fov_mm: float, ds: float, depth_mm: float = 10.0) -> List[Tube3D]:
    """Right coronary artery (C-shaped, LAO-like): conus, SN, acute marginals, PDA and PLV at the crux.

    Args:
        rng: random generator.
        fov_mm: field of view at the isocentre (mm).
        ds: sample step (mm).
        depth_mm: soft bound on the out-of-plane coordinate (mm).

    Returns:
        tubes in parent-before-child order, the RCA first.
    """
    F, h = fov_mm, fov_mm / 2
    ostium = np.array([F * _u(rng, 0.05, 0.2), F * _u(rng, -0.32, -0.22), 0.0])
    length = F * _u(rng, 0.85, 1.05)
    turn = math.radians(_u(rng, 140, 170))
    d0 = _u(rng, 3.6, 4.4)
    branches = [
        _BranchPlan("CB", _u(rng, 0.03, 0.07), _u(rng, 0.9, 1.4), -math.radians(_u(rng, 40, 70)),
                    F * _u(rng, 0.1, 0.18), 0.6),
        _BranchPlan("SN", _u(rng, 0.08, 0.14), _u(rng, 0.8, 1.2), math.radians(_u(rng, 50, 80)),
                    F * _u(rng, 0.08, 0.15), 0.6),
    ]
    for i, f in enumerate(_spread(rng, int(rng.integers(1, 3)), 0.35, 0.75)):
        branches.append(_BranchPlan(f"AM{i + 1}", f, _diam(rng, 1.3, 2.6), -math.radians(_u(rng, 35, 60)),
                                    F * _u(rng, 0.2, 0.35), _u(rng, 0.5, 0.7)))
    d_end = _u(rng, 2.4, 3.0)
    tubes = _grow(rng, "RCA", None, None, ostium, math.radians(_u(rng, 160, 195)), length, d0, d_end, branches, ds, h,
                  depth_mm, curvature_bias=-turn / length)
    rca = tubes[0]
    n = len(rca.points)
    i = n - 1
    d_crux = float(rca.reference[-1])
    d_pda = _avoid_band(d_crux * _u(rng, 0.72, 0.82))
    d_plv = _avoid_band(max(d_crux**3 - d_pda**3, 0.5**3) ** (1 / 3))
    h_end = _tangent_heading(rca.points, i)
    _grow(rng, "PDA", "RCA", i, rca.points[i].copy(), h_end - math.radians(_u(rng, 40, 70)), F * _u(rng, 0.25, 0.4),
          d_pda, d_pda * _u(rng, 0.5, 0.65), [], ds, h, depth_mm, out=tubes)
    _grow(rng, "PLV", "RCA", i, rca.points[i].copy(), h_end + math.radians(_u(rng, 0, 25)), F * _u(rng, 0.2, 0.35),
          d_plv, d_plv * _u(rng, 0.5, 0.65), [], ds, h, depth_mm, out=tubes)
    return tubes


def _straight_length(tip: np.ndarray, th0: float, exit_heading: float, curvature: float, half: float) -> float:
    """Length of the straight catheter part inside the FOV for a given exit heading (tip -> bend -> edge)."""
    dth = (exit_heading - th0 + math.pi) % (2 * math.pi) - math.pi
    k = math.copysign(curvature, dth) if dth != 0 else curvature
    L = abs(dth) / curvature
    x = tip[0] + (math.sin(th0 + k * L) - math.sin(th0)) / k
    y = tip[1] - (math.cos(th0 + k * L) - math.cos(th0)) / k
    if abs(x) >= half or abs(y) >= half:
        return 0.0
    dx, dy = math.cos(exit_heading), math.sin(exit_heading)
    tx = (math.copysign(half, dx) - x) / dx if abs(dx) > 1e-9 else math.inf
    ty = (math.copysign(half, dy) - y) / dy if abs(dy) > 1e-9 else math.inf
    return float(min(tx, ty))


def build_catheter(
    rng: np.random.Generator,
    root: Tube3D,
    french: int,
    fov_mm: float,
    ds: float,
    exit_heading: Optional[float] = None,
    curvature: float = 0.1,
    exit_range_deg: Tuple[float, float] = (-160.0, -20.0),
    min_fraction: float = 0.8,
) -> Tube3D:
    """Catheter of constant diameter ``french / 3`` mm, lying in the isocentre plane (``z = 0``).

    It runs from beyond the image edge in a straight line, bends through a smooth tip curve (radius
    ``1 / curvature`` mm) and ends at the ostium (first point of ``root``), pointing along the root artery. Points are
    ordered edge -> tip. Without ``exit_heading`` the catheter leaves in a direction of ``exit_range_deg`` (by default
    through the upper half of the image) drawn among those giving a long straight part (at least ``min_fraction``,
    80 %, of the longest possible).

    Args:
        rng: random generator.
        root: the root artery (LM or RCA); its first point is the ostium.
        french: French size (1 F = 1/3 mm outer diameter).
        fov_mm: field of view at the isocentre (mm).
        ds: sample step (mm).
        exit_heading: direction (radians) from the tip towards the image edge.
        curvature: curvature of the tip bend (1/mm).
        exit_range_deg: range of exit directions (degrees; 0 = +x / columns, -90 = up), sampled every 5 degrees.
        min_fraction: minimum straight length, relative to the longest over the range.
    """
    h = fov_mm / 2
    tip = root.points[0].copy()
    tip[2] = 0.0
    th = _tangent_heading(root.points, 0) + math.pi  # walk from the tip outwards
    if exit_heading is None:
        cands = np.radians(np.arange(float(exit_range_deg[0]), float(exit_range_deg[1]) + 1.0, 5.0))
        lengths = np.array([_straight_length(tip, th, float(c), curvature, h) for c in cands])
        ok = np.flatnonzero(lengths >= min_fraction * lengths.max())
        exit_heading = float(cands[int(rng.choice(ok))] + rng.uniform(-0.04, 0.04))
    dth = (exit_heading - th + math.pi) % (2 * math.pi) - math.pi
    bend_len = abs(dth) / curvature
    kappa = dth / bend_len if bend_len > 0 else 0.0
    pts = [tip]
    x, y = float(tip[0]), float(tip[1])
    s = 0.0
    limit = 6 * fov_mm
    while s < limit:
        th_i = th + kappa * s if s < bend_len else exit_heading
        x += ds * math.cos(th_i)
        y += ds * math.sin(th_i)
        s += ds
        pts.append(np.array([x, y, 0.0]))
        if abs(x) > h * 1.08 or abs(y) > h * 1.08:
            break
    p = np.asarray(pts[::-1])
    d = np.full(len(p), french / 3.0)
    return Tube3D("catheter", None, None, p, d, d.copy(), ds, is_catheter=True)


def apply_stenosis(tube: Tube3D, lesion: LesionSpec) -> None:
    """Narrow ``tube.diameter`` with a smooth cosine-shaped concentric lesion (in place)."""
    s = tube.arclength
    sc = s[lesion.center_index]
    x = (s - sc) / lesion.length_mm
    w = np.where(np.abs(x) <= 0.5, 0.5 * (1.0 + np.cos(2 * np.pi * x)), 0.0)
    tube.diameter = tube.diameter * (1.0 - lesion.percent_diameter / 100.0 * w)


def place_stenoses(
    rng: np.random.Generator,
    tubes: List[Tube3D],
    n: int,
    percent_range: Tuple[float, float],
    length_range: Tuple[float, float],
    half_fov: float,
    major_min_diameter_mm: float = 2.0,
    margin_mm: float = 3.0,
) -> List[LesionSpec]:
    """Place ``n`` non-overlapping lesions on major arteries, away from branch points and inside the image.

    Returns:
        the lesions actually placed (fewer than ``n`` when no valid position is left); tube diameters are updated.
    """
    majors = [t for t in tubes if not t.is_catheter and t.origin_diameter >= major_min_diameter_mm]
    lesions: List[LesionSpec] = []
    taken: Dict[str, List[Tuple[float, float]]] = {}
    if not majors:
        return lesions
    weights = np.array([len(t.points) for t in majors], float)
    for _ in range(n):
        for _attempt in range(60):
            t = majors[int(rng.choice(len(majors), p=weights / weights.sum()))]
            length = _u(rng, *length_range)
            s = t.arclength
            lo, hi = length / 2 + margin_mm, s[-1] - length / 2 - margin_mm
            if hi <= lo:
                continue
            sc = _u(rng, lo, hi)
            i = int(round(sc / t.ds))
            sc = s[i]
            half = length / 2 + margin_mm
            if any(abs(s[b] - sc) < half + 1.5 for b in t.branch_indices):
                continue
            if any(abs(sc - a) < half + b for a, b in taken.get(t.name, [])):
                continue
            if np.any(np.abs(t.points[i, :2]) > 0.85 * half_fov):
                continue
            pct = _u(rng, *percent_range)
            les = LesionSpec(t.name, i, pct, length, float(t.reference[i]))
            apply_stenosis(t, les)
            lesions.append(les)
            taken.setdefault(t.name, []).append((sc, length / 2 + margin_mm))
            break
    return lesions


def cardiac_displacement(
    points: np.ndarray,
    phase: float,
    center: np.ndarray,
    amplitude_mm: float,
    radius_mm: float,
    twist_rad: float,
    translation: np.ndarray,
) -> np.ndarray:
    """Smooth periodic deformation: contraction towards ``center`` + twist, weighted by a Gaussian, + translation.

    Args:
        points: ``(N, 3)`` mm.
        phase: contraction state in [0, 1] (0 = diastole, 1 = end systole).
        center: ``(3,)`` heart centre (mm).
        amplitude_mm: peak displacement of the contraction at ``radius_mm`` from the centre.
        radius_mm: spatial scale of the deformation.
        twist_rad: in-plane rotation at end systole near the centre.
        translation: ``(3,)`` rigid shift (mm) for this frame (respiration / table).

    Returns:
        displaced ``(N, 3)`` points.
    """
    rel = points - center
    r2 = (rel[:, :2] ** 2).sum(1)
    w = np.exp(-0.5 * r2 / radius_mm**2)[:, None]
    contract = -phase * amplitude_mm / radius_mm * math.exp(0.5) * rel * w
    contract[:, 2] = 0.0
    a = phase * twist_rad * w[:, 0]
    ca, sa = np.cos(a), np.sin(a)
    rot = np.stack([rel[:, 0] * ca - rel[:, 1] * sa - rel[:, 0], rel[:, 0] * sa + rel[:, 1] * ca - rel[:, 1]], 1)
    out = points + contract
    out[:, :2] += rot
    return out + np.asarray(translation)[None, :]
