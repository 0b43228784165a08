"""Cath-lab realism for synthetic angiograms: field of view, sharp anatomy, devices, filling, exposure, artefacts.

Everything here is switched on by :class:`~monai_angio.data.synthetic.PhantomConfig` fields (all off by default,
see ``PhantomConfig.cathlab`` for the randomising preset) and drawn from per-feature random generators
(:func:`feature_rng`), so that switching one feature on or off never changes the tree, the noise or any other
feature of the same seed.

Scene elements (static over a cine unless stated):

- **field of view** (:func:`field_of_view`): circular or rectangular (rounded) collimator, optionally off-centre,
  straight shutters from one or two sides, a soft (Gaussian) edge and a black or dim grey border. The
  ground-truth mask is ``True`` inside the exposed field; labels are 0 outside it.
- **sharp anatomy** (:func:`sharp_anatomy`): vertebral bodies with cortical end plates and pedicles, a diaphragm
  dome (bright lung above, dark abdomen below), a heart border, lung texture, soft-tissue bands and cortical ribs,
  added to the smooth background attenuation.
- **devices** (:func:`device_shapes`, :func:`guidewire_tube`): sternal wires, surgical clips, ECG leads with
  electrodes, pacemaker leads (static polylines in the image plane) and a PCI guidewire running through the
  catheter into a major artery (3D, it moves with the heart). They are dark but never labelled.
- **contrast filling** (:func:`filling_factors`): global under-filling, distal fading and under-filled branches,
  as a per-point factor on the contrast concentration (labels are geometric and unchanged).
- **image chain** (:func:`post_process`): read-out noise, correlated noise, exposure (gain, gamma, offset with
  saturation), edge enhancement, collimator border, burned-in annotation text (:func:`text_overlay`, PIL's default
  bitmap font) and JPEG compression (:func:`jpeg_roundtrip`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from scipy.ndimage import binary_dilation, gaussian_filter, gaussian_filter1d, zoom
from scipy.special import ndtr

from monai_angio.utils.codecs import jpeg_roundtrip

__all__ = [
    "FEATURES",
    "Shape2D",
    "FieldOfView",
    "feature_rng",
    "draw",
    "field_of_view",
    "sharp_anatomy",
    "device_shapes",
    "guidewire_tube",
    "filling_factors",
    "text_overlay",
    "jpeg_roundtrip",
    "post_process",
    "text_mask",
]

#: feature names -> stream ids of :func:`feature_rng` (never renumber: seeds of existing data sets depend on them).
FEATURES: Dict[str, int] = {
    "spacing": 1, "collimator": 2, "shutter": 3, "border": 4,
    "spine": 10, "diaphragm": 11, "heart_border": 12, "lung_texture": 13, "soft_tissue": 14, "sharp_ribs": 15,
    "guidewire": 20, "sternal_wires": 21, "clips": 22, "ecg_leads": 23, "pacemaker": 24,
    "filling": 30, "imaging": 31, "exposure": 32, "edge_enhance": 33, "jpeg": 34, "text": 35, "frame_noise": 36,
    "catheter": 37,
}

Range = Tuple[float, float]


def feature_rng(seed: int, feature: str) -> np.random.Generator:
    """Independent, reproducible generator of one feature for one case (``seed``)."""
    return np.random.default_rng([int(seed) % (2**32), 0xC47B, FEATURES[feature]])


def draw(value: Union[None, float, Sequence[float]], rng: np.random.Generator, log: bool = False) -> Any:
    """A scalar stays as it is; a ``(lo, hi)`` pair is drawn uniformly (log-uniformly with ``log``)."""
    if isinstance(value, (tuple, list)):
        lo, hi = float(value[0]), float(value[1])
        if log and lo > 0:
            return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        return float(rng.uniform(lo, hi))
    return value


def _coords_mm(shape: Tuple[int, int], spacing: float) -> Tuple[np.ndarray, np.ndarray]:
    H, W = shape
    Y = ((np.arange(H, dtype=np.float32) - (H - 1) / 2) * spacing)[:, None]
    X = ((np.arange(W, dtype=np.float32) - (W - 1) / 2) * spacing)[None, :]
    return Y, X


def _rounded_rect_sd(u: np.ndarray, v: np.ndarray, hu: float, hv: float, r: float) -> np.ndarray:
    """Signed distance (negative inside) to an axis-aligned rectangle of half sides ``hu, hv``, corner radius r."""
    r = min(r, hu, hv)
    qu = np.abs(u) - (hu - r)
    qv = np.abs(v) - (hv - r)
    out = np.sqrt(np.maximum(qu, 0) ** 2 + np.maximum(qv, 0) ** 2) + np.minimum(np.maximum(qu, qv), 0) - r
    return out.astype(np.float32)


# ----------------------------------------------------------------------------------------------------------------
# field of view


@dataclass
class FieldOfView:
    """Collimated field: soft transmission ``alpha`` (1 inside), ground-truth ``mask`` and border grey level."""

    alpha: np.ndarray
    mask: np.ndarray
    level: float
    info: Dict[str, Any] = field(default_factory=dict)


def field_of_view(
    shape: Tuple[int, int],
    collimator_rng: Optional[np.random.Generator],
    shutter_rng: Optional[np.random.Generator],
    border_rng: np.random.Generator,
    shapes: Sequence[str] = ("circle", "rect"),
    circle_radius: Range = (0.42, 0.68),
    rect_half: Range = (0.34, 0.5),
    offset: float = 0.0,
    softness: Range = (0.002, 0.008),
    shutter_depth: Range = (0.04, 0.2),
    grey_prob: float = 0.0,
    grey: Range = (0.1, 0.4),
    square_prob: float = 0.5,
) -> Optional[FieldOfView]:
    """Collimator (``collimator_rng``) and/or shutters (``shutter_rng``); ``None`` when neither is given.

    Args:
        shape: ``(H, W)``.
        collimator_rng: generator of the collimator, or ``None`` for no collimator.
        shutter_rng: generator of the shutters, or ``None`` for no shutter.
        border_rng: generator of the edge softness and border level.
        shapes: collimator shapes to choose from (``"circle"``, ``"rect"``).
        circle_radius: radius as a fraction of the image size (> 0.5: the corners are cut only).
        rect_half: half side of a rectangular field as a fraction of the size (drawn per axis).
        offset: maximum shift of the field centre, fraction of the size (per axis).
        softness: Gaussian edge width, fraction of the size.
        shutter_depth: depth of a shutter band from its image side, fraction of the size.
        grey_prob: probability of a dim grey border (else black).
        grey: grey level range of a dim border.
        square_prob: probability that a rectangular field is square.
    """
    if collimator_rng is None and shutter_rng is None:
        return None
    H, W = shape
    n = float(min(H, W))
    r = np.arange(H, dtype=np.float32)[:, None]
    c = np.arange(W, dtype=np.float32)[None, :]
    sd = np.full((H, W), -1e6, np.float32)
    info: Dict[str, Any] = {}
    if collimator_rng is not None:
        g = collimator_rng
        kind = str(shapes[int(g.integers(len(shapes)))])
        cy = (H - 1) / 2 + g.uniform(-offset, offset) * H
        cx = (W - 1) / 2 + g.uniform(-offset, offset) * W
        if kind == "circle":
            rad = g.uniform(*circle_radius) * n
            sd = np.sqrt((r - cy) ** 2 + (c - cx) ** 2) - np.float32(rad)
            info.update(collimator="circle", center_rc=[float(cy), float(cx)], radius_px=float(rad))
        elif kind == "rect":
            hh, hw = g.uniform(*rect_half) * H, g.uniform(*rect_half) * W
            corner = g.uniform(0.0, 0.08) * n
            square = bool(g.random() < square_prob)
            if square:
                hw = hh
            sd = _rounded_rect_sd(r - cy, c - cx, hh, hw, corner)
            info.update(collimator="rect", center_rc=[float(cy), float(cx)], half_size_px=[float(hh), float(hw)],
                        square=square)
        else:
            raise ValueError(f"unknown collimator shape {kind!r}")
    if shutter_rng is not None:
        g = shutter_rng
        k = 1 if g.random() < 0.6 else 2
        sides = [str(s) for s in g.permutation(["top", "bottom", "left", "right"])[:k]]
        shut = []
        for side in sides:
            depth = g.uniform(*shutter_depth) * n
            slope = math.tan(math.radians(g.uniform(-10, 10)))
            if side == "top":
                s = (depth + slope * (c - (W - 1) / 2)) - r
            elif side == "bottom":
                s = r - (H - 1 - depth + slope * (c - (W - 1) / 2))
            elif side == "left":
                s = (depth + slope * (r - (H - 1) / 2)) - c
            else:
                s = c - (W - 1 - depth + slope * (r - (H - 1) / 2))
            sd = np.maximum(sd, s.astype(np.float32))
            shut.append({"side": side, "depth_px": float(depth)})
        info["shutters"] = shut
    sigma = max(border_rng.uniform(*softness) * n, 0.3)
    alpha = ndtr(-sd / np.float32(sigma)).astype(np.float32)
    level = float(border_rng.uniform(*grey)) if border_rng.random() < grey_prob else float(border_rng.uniform(0, 0.03))
    info.update(edge_sigma_px=float(sigma), border_level=level)
    return FieldOfView(alpha=alpha, mask=sd <= 0, level=level, info=info)


# ----------------------------------------------------------------------------------------------------------------
# sharp anatomy


def _spine(g: np.random.Generator, Y: np.ndarray, X: np.ndarray, E: float) -> np.ndarray:
    x0 = g.uniform(-0.7, 0.7) * E
    tilt = g.uniform(-0.15, 0.15)
    half_w = g.uniform(16, 24)
    period = g.uniform(26, 34)
    gap = g.uniform(5, 9)
    phase = g.uniform(0, period)
    amp = g.uniform(0.05, 0.14)
    edge = g.uniform(0.4, 1.0)
    u = X - (x0 + tilt * Y)
    v = np.mod(Y - phase, period) - period / 2
    hb = (period - gap) / 2
    sd = _rounded_rect_sd(u, v, half_w, hb, 3.0)
    body = ndtr(-sd / edge)
    rim = np.exp(-0.5 * (sd / 0.9) ** 2)
    a = 0.6 * body + 0.5 * rim
    # pedicles: oval cortical rings near the lateral edges of every body
    for side in (-1.0, 1.0):
        e = np.sqrt(((u - side * 0.62 * half_w) / 4.5) ** 2 + ((v + 0.15 * hb) / 6.5) ** 2)
        a += 0.2 * np.exp(-0.5 * ((e - 1.0) / 0.12) ** 2)
    # paraspinal soft tissue
    a += 0.6 * ndtr((half_w + 12 - np.abs(u)) / 3.0)
    return (amp * a).astype(np.float32)


def _diaphragm(g: np.random.Generator, Y: np.ndarray, X: np.ndarray, E: float) -> Tuple[np.ndarray, np.ndarray]:
    x0 = g.uniform(-0.6, 0.6) * E
    y0 = g.uniform(0.0, 0.8) * E
    R = g.uniform(90, 300)
    slope = g.uniform(-0.25, 0.25)
    edge = g.uniform(0.5, 1.5)
    amp = g.uniform(0.3, 0.7)
    d = Y - (y0 + (X - x0) ** 2 / (2 * R) + slope * (X - x0))
    below = ndtr(d / edge)
    return (amp * below * (1.0 + 0.4 * np.clip(d / 40.0, 0, 1))).astype(np.float32), below.astype(np.float32)


def _heart(g: np.random.Generator, Y: np.ndarray, X: np.ndarray, E: float) -> Tuple[np.ndarray, np.ndarray]:
    cx, cy = g.uniform(-0.4, 0.4) * E, g.uniform(-0.1, 0.5) * E
    a, b = g.uniform(50, 85), g.uniform(45, 75)
    phi = g.uniform(-0.6, 0.6)
    edge = g.uniform(0.7, 2.0)
    amp = g.uniform(0.08, 0.22)
    xr = (X - cx) * math.cos(phi) + (Y - cy) * math.sin(phi)
    yr = -(X - cx) * math.sin(phi) + (Y - cy) * math.cos(phi)
    e = np.sqrt((xr / a) ** 2 + (yr / b) ** 2)
    inside = ndtr(-(e - 1.0) * (0.5 * (a + b)) / edge)
    return (amp * inside * (1.0 + 0.3 * np.sqrt(np.clip(1 - e * e, 0, 1)))).astype(np.float32), inside.astype(
        np.float32)


def _lung_texture(g: np.random.Generator, shape: Tuple[int, int], spacing: float) -> np.ndarray:
    H, W = shape
    pitch = max(0.5, spacing)  # mm per coarse texel
    h, w = max(8, int(math.ceil(H * spacing / pitch))), max(8, int(math.ceil(W * spacing / pitch)))
    noise = g.standard_normal((h, w)).astype(np.float32)
    s1, s2 = g.uniform(1.0, 1.8) / pitch, g.uniform(3.0, 6.0) / pitch
    bp = gaussian_filter(noise, s1, mode="wrap") - gaussian_filter(noise, s2, mode="wrap")
    bp /= float(bp.std()) + 1e-6
    lines = np.exp(-((bp / 0.35) ** 2))  # zero crossings: worm-like vascular markings
    blobs = gaussian_filter(noise, 2.5 / pitch, mode="wrap")
    blobs /= float(blobs.std()) + 1e-6
    tex = g.uniform(0.02, 0.06) * lines + g.uniform(0.01, 0.03) * blobs
    out = zoom(tex, (H / h, W / w), order=1, mode="nearest", grid_mode=True)[:H, :W]
    if out.shape != (H, W):
        out = np.pad(out, ((0, H - out.shape[0]), (0, W - out.shape[1])), mode="edge")
    return out.astype(np.float32)


def _soft_tissue(g: np.random.Generator, Y: np.ndarray, X: np.ndarray, E: float) -> np.ndarray:
    a = np.zeros(np.broadcast_shapes(Y.shape, X.shape), np.float32)
    for _ in range(int(g.integers(1, 4))):
        amp, edge = g.uniform(0.05, 0.18), g.uniform(1.5, 6.0)
        if g.random() < 0.5:  # large curved shadow (breast, arm) with its centre outside the image
            R = g.uniform(0.8, 3.0) * E
            ang = g.uniform(0, 2 * math.pi)
            dist = R + g.uniform(-0.6, 0.6) * E
            cx, cy = dist * math.cos(ang), dist * math.sin(ang)
            sd = np.sqrt((X - cx) ** 2 + (Y - cy) ** 2) - R
        else:  # straight band
            th = g.uniform(0, math.pi)
            off = g.uniform(-0.8, 0.8) * E
            half = g.uniform(0.1, 0.5) * E
            sd = np.abs(X * math.cos(th) + Y * math.sin(th) - off) - half
        a += (amp * ndtr(-sd / edge)).astype(np.float32)
    return a


def _sharp_ribs(g: np.random.Generator, Y: np.ndarray, X: np.ndarray, E: float) -> np.ndarray:
    a = np.zeros(np.broadcast_shapes(Y.shape, X.shape), np.float32)
    n = int(g.integers(2, 6))
    amp = g.uniform(0.05, 0.12)
    for _ in range(n):
        yc = g.uniform(-1.1, 1.1) * E
        bend = g.uniform(0.5, 3.0) / E * (1 if g.random() < 0.5 else -1)
        x0 = g.uniform(-1.0, 1.0) * E
        slope = g.uniform(-0.5, 0.5)
        ht = g.uniform(4.5, 8.0)
        d = np.abs(Y - (yc + bend * (X - x0) ** 2 / 2 + slope * X)) - ht
        a += (amp * (0.35 * ndtr(-d / 0.6) + 0.6 * np.exp(-0.5 * (d / 0.7) ** 2))).astype(np.float32)
    return a


def sharp_anatomy(
    shape: Tuple[int, int], spacing_mm: float, rngs: Dict[str, Optional[np.random.Generator]]
) -> Tuple[np.ndarray, List[str]]:
    """Attenuation of sharp-edged anatomy, to add to the smooth background.

    Args:
        shape: ``(H, W)``.
        spacing_mm: mm per pixel (anatomy has physical sizes).
        rngs: generator per element (``spine``, ``diaphragm``, ``heart_border``, ``lung_texture``, ``soft_tissue``,
            ``sharp_ribs``); elements whose generator is ``None`` are left out.

    Returns:
        ``(H, W)`` float32 attenuation and the names of the elements drawn.
    """
    Y, X = _coords_mm(shape, spacing_mm)
    E = 0.5 * max(shape) * spacing_mm
    a = np.zeros(shape, np.float32)
    used: List[str] = []
    lung = np.ones(shape, np.float32)
    if rngs.get("spine") is not None:
        a += _spine(rngs["spine"], Y, X, E)
        used.append("spine")
    if rngs.get("diaphragm") is not None:
        d, below = _diaphragm(rngs["diaphragm"], Y, X, E)
        a += d
        lung *= 1.0 - below
        used.append("diaphragm")
    if rngs.get("heart_border") is not None:
        h, inside = _heart(rngs["heart_border"], Y, X, E)
        a += h
        lung *= 1.0 - 0.7 * inside
        used.append("heart_border")
    if rngs.get("lung_texture") is not None:
        a += _lung_texture(rngs["lung_texture"], shape, spacing_mm) * (0.3 + 0.7 * lung)
        used.append("lung_texture")
    if rngs.get("soft_tissue") is not None:
        a += _soft_tissue(rngs["soft_tissue"], Y, X, E)
        used.append("soft_tissue")
    if rngs.get("sharp_ribs") is not None:
        a += _sharp_ribs(rngs["sharp_ribs"], Y, X, E)
        used.append("sharp_ribs")
    return a, used


# ----------------------------------------------------------------------------------------------------------------
# devices


@dataclass
class Shape2D:
    """A dark device drawn as a tube in the image plane.

    Attributes:
        name: device kind (``"sternal_wire"``, ``"clip"``, ``"ecg_lead"``, ``"electrode"``, ``"pacemaker_lead"``).
        rc: ``(N, 2)`` centreline in native pixels.
        radius_px: ``(N,)`` radius in pixels.
        mu_radius: ``(N,)`` attenuation coefficient x radius in mm (the central line integral is twice this).
    """

    name: str
    rc: np.ndarray
    radius_px: np.ndarray
    mu_radius: np.ndarray


def _shape(name: str, rc: np.ndarray, radius_mm: float, mu: float, spacing: float) -> Shape2D:
    n = len(rc)
    return Shape2D(name, np.asarray(rc, float), np.full(n, radius_mm / spacing), np.full(n, mu * radius_mm))


def _bezier(p: np.ndarray, step: float) -> np.ndarray:
    """Cubic Bezier through 4 control points (N x 2), resampled every ``step`` (same units)."""
    t = np.linspace(0, 1, 400)[:, None]
    b = ((1 - t) ** 3) * p[0] + 3 * ((1 - t) ** 2) * t * p[1] + 3 * (1 - t) * t * t * p[2] + t**3 * p[3]
    s = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(b, axis=0), axis=1))])
    u = np.arange(0, s[-1] + step / 2, step)
    return np.stack([np.interp(u, s, b[:, 0]), np.interp(u, s, b[:, 1])], 1)


def _edge_point(g: np.random.Generator, H: int, W: int, out: float) -> np.ndarray:
    """Random point just outside the image border (``out`` pixels beyond it)."""
    side = int(g.integers(4))
    if side == 0:
        return np.array([-out, g.uniform(0, W)])
    if side == 1:
        return np.array([H + out, g.uniform(0, W)])
    if side == 2:
        return np.array([g.uniform(0, H), -out])
    return np.array([g.uniform(0, H), W + out])


def _circle(center: np.ndarray, r_px: float, n: int = 48, ry: Optional[float] = None, rot: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, n)
    ry = r_px if ry is None else ry
    x, y = r_px * np.cos(t), ry * np.sin(t)
    cr, sr = math.cos(rot), math.sin(rot)
    return np.stack([center[0] + x * sr + y * cr, center[1] + x * cr - y * sr], 1)


def _sternal_wires(g: np.random.Generator, H: int, W: int, sp: float) -> List[Shape2D]:
    out = []
    x = g.uniform(0.2, 0.8) * W
    y = g.uniform(-0.1, 0.3) * H
    step = g.uniform(15, 25) / sp
    tilt = g.uniform(-0.2, 0.2)
    mu = g.uniform(2.0, 4.0)
    for _ in range(int(g.integers(3, 7))):
        if y > H * 1.05:
            break
        c = np.array([y, x + g.uniform(-3, 3) / sp])
        a, b = g.uniform(4, 7) / sp, g.uniform(1.5, 3) / sp
        rot = g.uniform(-0.35, 0.35)
        loop = _circle(c, a, 40, b, rot)
        out.append(_shape("sternal_wire", loop, 0.5, mu, sp))
        # twisted knot: a short, thicker, denser stub leaving one end of the loop
        side = 1 if g.random() < 0.5 else -1
        start = loop[0] if side > 0 else loop[len(loop) // 2]
        th = rot + (0.0 if side > 0 else math.pi) + g.uniform(-0.5, 0.5)
        d = np.array([math.sin(th), math.cos(th)])
        knot = np.stack([start, start + d * g.uniform(3, 6) / sp])
        out.append(_shape("sternal_wire", knot, 0.9, mu, sp))
        y += step
        x += tilt * step
    return out


def _clips(g: np.random.Generator, H: int, W: int, sp: float) -> List[Shape2D]:
    out = []
    p = np.stack([g.uniform(0.1, 0.9, 4) * H, g.uniform(0.1, 0.9, 4) * W], 1)
    path = _bezier(p, 1.0)
    mu = g.uniform(2.0, 4.0)
    for i in np.sort(g.choice(len(path), size=min(len(path), int(g.integers(2, 7))), replace=False)):
        c = path[i]
        length = g.uniform(3, 6) / sp
        th = g.uniform(0, 2 * math.pi)
        spread = math.radians(g.uniform(8, 20))
        for s in (-1, 1):
            d = np.array([math.sin(th + s * spread), math.cos(th + s * spread)])
            out.append(_shape("clip", np.stack([c, c + length * d]), g.uniform(0.35, 0.5), mu, sp))
    return out


def _ecg_leads(g: np.random.Generator, H: int, W: int, sp: float) -> List[Shape2D]:
    out = []
    for _ in range(int(g.integers(1, 4))):
        a = _edge_point(g, H, W, 5)
        electrode = g.random() < 0.4
        b = np.array([g.uniform(0.1, 0.9) * H, g.uniform(0.1, 0.9) * W]) if electrode else _edge_point(g, H, W, 5)
        if np.linalg.norm(b - a) < 0.5 * min(H, W):  # too short: run to the opposite side
            b = np.array([H, W], float) - a
        d = b - a
        nrm = np.array([-d[1], d[0]])
        ctrl = np.stack([a, a + d / 3 + nrm * g.uniform(-0.25, 0.25), a + 2 * d / 3 + nrm * g.uniform(-0.25, 0.25), b])
        path = _bezier(ctrl, 1.5)
        mu = g.uniform(0.3, 0.9)
        out.append(_shape("ecg_lead", path, g.uniform(0.25, 0.5), mu, sp))
        if electrode:
            out.append(_shape("electrode", b[None], g.uniform(1.5, 2.5), g.uniform(0.5, 1.0), sp))
            out.append(_shape("electrode", _circle(b, g.uniform(10, 16) / sp, 64), 0.3, g.uniform(0.1, 0.3), sp))
    return out


def _pacemaker(g: np.random.Generator, H: int, W: int, sp: float) -> List[Shape2D]:
    out = []
    start = np.array([-5.0, g.uniform(0.0, 1.0) * W])
    for _ in range(int(g.integers(1, 3))):
        tip = np.array([g.uniform(0.55, 0.95) * H, g.uniform(0.15, 0.85) * W])
        ctrl = np.stack([start, start + np.array([g.uniform(0.2, 0.5) * H, g.uniform(-0.3, 0.3) * W]),
                         tip + np.array([g.uniform(-0.4, -0.1) * H, g.uniform(-0.3, 0.3) * W]), tip])
        path = _bezier(ctrl, 1.0)
        mu = g.uniform(0.35, 0.7)
        out.append(_shape("pacemaker_lead", path, g.uniform(0.6, 0.9), mu, sp))
        n_tip = max(2, int(10 / sp))
        out.append(_shape("pacemaker_lead", path[-n_tip:], 1.3, 2.0 * mu, sp))
    return out


def device_shapes(
    shape: Tuple[int, int], spacing_mm: float, rngs: Dict[str, Optional[np.random.Generator]]
) -> Tuple[List[Shape2D], List[str]]:
    """Static dark devices in the image plane (never labelled): sternal wires, clips, ECG leads, pacemaker leads.

    Args:
        shape: ``(H, W)``.
        spacing_mm: mm per pixel.
        rngs: generator per device kind (``sternal_wires``, ``clips``, ``ecg_leads``, ``pacemaker``); ``None``
            leaves it out.

    Returns:
        the shapes and the names of the kinds drawn.
    """
    H, W = shape
    makers = {"sternal_wires": _sternal_wires, "clips": _clips, "ecg_leads": _ecg_leads, "pacemaker": _pacemaker}
    shapes: List[Shape2D] = []
    used = []
    for name, fn in makers.items():
        g = rngs.get(name)
        if g is not None:
            shapes += fn(g, H, W, spacing_mm)
            used.append(name)
    return shapes, used


def guidewire_tube(g: np.random.Generator, tubes: Sequence[Any], catheter: Any) -> Tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]:
    """A 0.014" PCI guidewire: through the catheter, out of its tip into the root artery and down a major branch.

    Args:
        g: random generator.
        tubes: the artery tubes (``Tube3D``, parent before child, the root first).
        catheter: the catheter ``Tube3D`` (edge -> tip).

    Returns:
        ``(points (N, 3) mm, radius_mm (N,), mu (N,) 1/mm)``; the last ~30 mm (radiopaque tip) are denser.
    """
    root = tubes[0]
    parts = [catheter.points]
    lumen = [np.zeros(len(catheter.points))]
    cur, start = root, 0
    while True:
        kids = [t for t in tubes if t.parent == cur.name and t.origin_diameter >= 1.5 and t.parent_index >= start]
        terminal = [t for t in kids if t.parent_index >= len(cur.points) - 2]
        pick = None
        if terminal:
            pick = terminal[int(g.integers(len(terminal)))]
        elif kids and g.random() < 0.25:
            pick = kids[int(g.integers(len(kids)))]
        if pick is None:
            end = int(start + max(2, (len(cur.points) - start) * g.uniform(0.7, 1.0)))
            parts.append(cur.points[start:end])
            lumen.append(cur.diameter[start:end] / 2)
            break
        parts.append(cur.points[start : pick.parent_index + 1])
        lumen.append(cur.diameter[start : pick.parent_index + 1] / 2)
        cur, start = pick, 0
    pts = np.concatenate(parts).astype(float)
    lum = np.concatenate(lumen)
    r = 0.18
    # lateral wander inside the lumen (in-plane normal)
    d = np.gradient(pts[:, :2], axis=0)
    nrm = np.stack([-d[:, 1], d[:, 0]], 1) / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-9)
    wob = gaussian_filter1d(g.standard_normal(len(pts)), 25, mode="nearest")
    wob = np.clip(wob / (np.abs(wob).max() + 1e-9), -1, 1) * 0.6
    off = wob * np.maximum(lum - r, 0.0)
    pts[:, :2] += nrm * off[:, None]
    mu = np.full(len(pts), g.uniform(1.2, 2.5))
    ds = float(np.median(np.linalg.norm(np.diff(pts, axis=0), axis=1))) or 0.2
    n_tip = min(len(pts), int(g.uniform(25, 35) / ds))
    mu[-n_tip:] *= g.uniform(1.5, 2.5)
    return pts, np.full(len(pts), r), mu


# ----------------------------------------------------------------------------------------------------------------
# contrast filling


def filling_factors(g: np.random.Generator, tubes: Sequence[Any]) -> Tuple[List[np.ndarray], Dict[str, Any]]:
    """Per-point contrast filling factor (0..1) of every artery tube: under-filling, distal fading, weak branches.

    Args:
        g: random generator.
        tubes: artery tubes (parent before child).

    Returns:
        one ``(N,)`` factor array per tube, and a description.
    """
    names = {t.name: i for i, t in enumerate(tubes)}
    s0 = []
    for t in tubes:
        p = names.get(t.parent) if t.parent else None
        s0.append(0.0 if p is None else s0[p] + tubes[p].ds * float(t.parent_index))
    path = [s0[i] + t.arclength for i, t in enumerate(tubes)]
    smax = max(float(p.max()) for p in path)
    glob = g.uniform(0.45, 0.9) if g.random() < 0.5 else 1.0
    info: Dict[str, Any] = {"global": float(glob)}
    fade = g.random() < 0.7
    fs, fw, fmin = g.uniform(0.35, 0.8) * smax, g.uniform(8, 30), g.uniform(0.25, 0.55)
    if fade:
        info["distal_fade"] = {"start_mm": float(fs), "width_mm": float(fw), "min": float(fmin)}
    weak = []
    if g.random() < 0.5 and len(tubes) > 1:
        weak = [int(i) for i in g.choice(np.arange(1, len(tubes)), size=min(2, len(tubes) - 1), replace=False)]
        info["under_filled"] = [tubes[i].name for i in weak]
    out = []
    for i, t in enumerate(tubes):
        f = np.full(len(t.points), glob)
        if fade:
            f *= 1.0 - (1.0 - fmin) * (1.0 / (1.0 + np.exp(-(path[i] - fs) / (fw / 4))))
        if i in weak:
            f *= g.uniform(0.35, 0.65)
        out.append(f)
    return out, info


# ----------------------------------------------------------------------------------------------------------------
# image chain


def _text_lines(g: np.random.Generator, meta: Dict[str, Any]) -> List[List[str]]:
    a = float(meta.get("positioner_primary_angle_deg", g.uniform(-40, 40)))
    b = float(meta.get("positioner_secondary_angle_deg", g.uniform(-30, 30)))
    pool = [
        f"{'LAO' if a >= 0 else 'RAO'} {abs(a):.0f}  {'CRA' if b >= 0 else 'CAU'} {abs(b):.0f}",
        f"{int(g.choice([7, 10, 12, 15, 30]))} fps",
        f"kV {int(g.integers(65, 110))}  mA {int(g.integers(200, 900))}",
        f"{int(g.integers(2005, 2025))}-{int(g.integers(1, 13)):02d}-{int(g.integers(1, 29)):02d} "
        f"{int(g.integers(0, 24)):02d}:{int(g.integers(0, 60)):02d}:{int(g.integers(0, 60)):02d}",
        f"Frame {int(g.integers(1, 40))}/{int(g.integers(40, 90))}",
        f"FOV {int(g.choice([15, 17, 20, 22, 25, 30]))} cm",
        f"ID {int(g.integers(10**6, 10**7))}",
        f"W {int(g.integers(200, 4096))} C {int(g.integers(100, 2048))}",
        f"SID {int(g.integers(95, 120)) * 10}",
        str(g.choice(["CINE", "ACQ", "FLUORO", "Cardiac", "Coro L", "Coro R"])),
        f"Series {int(g.integers(1, 20))}",
        str(g.choice(["ANON^PATIENT", "ANONYMOUS", "Study 1", "Cath Lab 2"])),
    ]
    order = [pool[int(i)] for i in g.permutation(len(pool))]
    corners = []
    for _ in range(4):
        k = int(g.integers(1, 4))
        corners.append(order[:k])
        order = order[k:]
    return corners


def text_overlay(g: np.random.Generator, shape: Tuple[int, int], meta: Optional[Dict[str, Any]] = None
                 ) -> Tuple[np.ndarray, float, List[str]]:
    """Burned-in annotation text (PIL's default bitmap font) in one to four corners.

    Args:
        g: random generator.
        shape: ``(H, W)``.
        meta: phantom metadata (C-arm angles are written when present).

    Returns:
        ``(alpha (H, W) float32 in [0, 1], grey value, lines)``.
    """
    from PIL import Image, ImageDraw, ImageFont

    H, W = shape
    font = ImageFont.load_default_imagefont() if hasattr(ImageFont, "load_default_imagefont") else \
        ImageFont.load_default()
    height = g.uniform(0.018, 0.03) * min(H, W)
    scale = max(height / 11.0, 0.6)  # keep glyphs legible on small images
    if scale >= 1.5:
        scale = float(round(scale))
    corners = _text_lines(g, meta or {})
    n_corners = int(g.integers(1, 5))
    which = g.choice(4, size=n_corners, replace=False)
    alpha = np.zeros((H, W), np.float32)
    margin = int(g.uniform(0.01, 0.03) * min(H, W)) + 1
    drawn = []
    for k in which:
        lines = corners[int(k)]
        widths = [int(font.getbbox(s)[2]) + 2 for s in lines]
        bw, bh = max(widths), 12 * len(lines)
        img = Image.new("L", (bw, bh), 0)
        dr = ImageDraw.Draw(img)
        right = k in (1, 3)
        for i, s in enumerate(lines):
            dr.text((bw - widths[i] if right else 0, 12 * i), s, fill=255, font=font)
        tw, th = max(1, int(round(bw * scale))), max(1, int(round(bh * scale)))
        resample = Image.NEAREST if float(scale).is_integer() else Image.BILINEAR
        arr = np.asarray(img.resize((tw, th), resample), np.float32) / 255.0
        r0 = margin if k in (0, 1) else H - margin - th
        c0 = margin if k in (0, 2) else W - margin - tw
        rs, cs = max(r0, 0), max(c0, 0)
        re, ce = min(r0 + th, H), min(c0 + tw, W)
        if re <= rs or ce <= cs:
            continue
        sub = arr[rs - r0 : re - r0, cs - c0 : ce - c0]
        np.maximum(alpha[rs:re, cs:ce], sub, out=alpha[rs:re, cs:ce])
        drawn += lines
    value = float(g.uniform(0.85, 1.0)) if g.random() < 0.75 else float(g.uniform(0.0, 0.08))
    return alpha, value, drawn


def post_process(image: np.ndarray, params: Dict[str, Any], fov: Optional[FieldOfView],
                 text: Optional[Tuple[np.ndarray, float]], rng: np.random.Generator) -> np.ndarray:
    """Image chain after the detector: read-out noise, noise correlation, exposure, edge enhancement, collimator
    border, text, JPEG.

    Args:
        image: detector image in [0, 1].
        params: ``readout_noise``, ``noise_blur_px``, ``exposure`` (``gain``, ``gamma``, ``offset``) or ``None``,
            ``edge_enhance`` (``amount``, ``sigma_px``) or ``None``, ``jpeg_quality`` or ``None``.
        fov: field of view or ``None``.
        text: ``(alpha, value)`` or ``None``.
        rng: generator of the per-frame noise.
    """
    img = image.astype(np.float32, copy=True)
    if params.get("readout_noise"):
        img += rng.normal(0.0, params["readout_noise"], img.shape).astype(np.float32)
    if params.get("noise_blur_px"):
        img = gaussian_filter(img, params["noise_blur_px"], mode="nearest")
    img = np.clip(img, 0.0, 1.0)
    ex = params.get("exposure")
    if ex:
        img = np.clip(ex["offset"] + ex["gain"] * img ** np.float32(ex["gamma"]), 0.0, 1.0).astype(np.float32)
    ee = params.get("edge_enhance")
    if ee:
        img = np.clip(img + ee["amount"] * (img - gaussian_filter(img, ee["sigma_px"], mode="nearest")), 0.0, 1.0)
    if fov is not None:
        out = fov.level + rng.normal(0.0, 0.004 + 0.02 * fov.level, img.shape).astype(np.float32)
        img = fov.alpha * img + (1.0 - fov.alpha) * out
    if text is not None:
        a, v = text
        img = img * (1.0 - a) + np.float32(v) * a
    if params.get("jpeg_quality"):
        img = jpeg_roundtrip(img, params["jpeg_quality"])
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def text_mask(alpha: np.ndarray) -> np.ndarray:
    """Pixels hidden by burned-in text (glyphs dilated by one pixel)."""
    return binary_dilation(alpha > 0.25, iterations=1)
