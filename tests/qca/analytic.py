"""Analytic masks with exactly known geometry for the QCA tests (pixel-centre sampling).

A pixel ``(r, c)`` belongs to a shape when its centre lies inside the continuous shape, so a strip of
width ``w`` px has ``w`` px of mask per unit length on average, whatever its angle and offset.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np

__all__ = ["strip", "segment_tube", "tube_with_stenosis", "label_with_catheter", "tree_image"]


def _grid(shape: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    return rr.astype(float), cc.astype(float)


def strip(width_px: float, angle: float = 0.0, offset: float = 0.0, size: int = 64) -> np.ndarray:
    """Infinite straight strip through the image centre (+ ``offset`` px along its normal)."""
    rr, cc = _grid((size, size))
    c = (size - 1) / 2.0
    d = -(rr - c) * np.cos(angle) + (cc - c) * np.sin(angle) - offset
    return np.abs(d) < width_px / 2.0


def segment_tube(
    shape: Tuple[int, int],
    p0: Sequence[float],
    p1: Sequence[float],
    diameter_px,
    flat_ends: bool = False,
) -> np.ndarray:
    """Tube around the segment ``p0 -> p1`` (row, col) whose diameter is ``diameter_px(u)``, ``u`` in px from p0.

    ``diameter_px`` may be a number or a callable of the arc position ``u`` (array, px).
    """
    rr, cc = _grid(shape)
    p0 = np.asarray(p0, float)
    p1 = np.asarray(p1, float)
    t = p1 - p0
    length = float(np.hypot(*t))
    t = t / length
    u = (rr - p0[0]) * t[0] + (cc - p0[1]) * t[1]
    v = -(rr - p0[0]) * t[1] + (cc - p0[1]) * t[0]
    uc = np.clip(u, 0.0, length)
    diam = diameter_px(uc) if callable(diameter_px) else np.full_like(uc, float(diameter_px))
    if flat_ends:
        return (np.abs(v) < diam / 2.0) & (u >= 0) & (u <= length)
    return np.hypot(u - uc, v) < diam / 2.0


def tube_with_stenosis(
    size: int = 128,
    spacing_mm: float = 0.2,
    diameter_mm: float = 3.0,
    angle: float = 0.35,
    stenosis_percent: Optional[float] = None,
    stenosis_length_mm: float = 6.0,
    taper_mm_per_mm: float = 0.0,
    margin_px: float = 6.0,
) -> Tuple[np.ndarray, dict]:
    """Straight tube across the image with an optional cosine-shaped stenosis at its middle.

    The diameter at arc length ``s`` (mm from the tube centre) is
    ``(D + taper * s) * (1 - p/100 * (1 + cos(2 pi s / L)) / 2)`` for ``|s| < L/2``.

    Returns:
        ``(mask, truth)`` with ``truth`` holding ``p0``, ``p1``, ``center_rc``, ``mld_mm``, ``reference_mm``.
    """
    c = np.array([(size - 1) / 2.0 + 0.3, (size - 1) / 2.0 - 0.2])
    t = np.array([np.sin(angle), np.cos(angle)])
    half = (size / 2.0 - margin_px) / max(abs(t[0]), abs(t[1]))
    p0, p1 = c - half * t, c + half * t

    def diam(u: np.ndarray) -> np.ndarray:
        s_mm = (u - half) * spacing_mm
        d = diameter_mm + taper_mm_per_mm * s_mm
        if stenosis_percent:
            cosine = 0.5 * (1 + np.cos(2 * np.pi * s_mm / stenosis_length_mm))
            bump = np.where(np.abs(s_mm) < stenosis_length_mm / 2, cosine, 0.0)
            d = d * (1 - stenosis_percent / 100.0 * bump)
        return d / spacing_mm

    mask = segment_tube((size, size), p0, p1, diam, flat_ends=True)
    ref = diameter_mm
    truth = {
        "p0": tuple(p0),
        "p1": tuple(p1),
        "center_rc": tuple(c),
        "reference_mm": ref,
        "mld_mm": ref * (1 - (stenosis_percent or 0) / 100.0),
        "length_px": 2 * half,
    }
    return mask, truth


def label_with_catheter(
    size: int = 128,
    spacing_mm: float = 0.25,
    french: float = 6.0,
    artery_diameter_mm: float = 3.0,
    stenosis_percent: Optional[float] = 50.0,
    catheter: bool = True,
) -> Tuple[np.ndarray, dict]:
    """0/1/2 label map: a straight catheter entering from the top-left border and ending at the ostium of a
    straight artery that runs down-right from there, with a 6 mm cosine stenosis at its middle."""
    lab = np.zeros((size, size), np.uint8)
    ostium = np.array([0.50 * size, 0.42 * size])
    end = np.array([0.95 * size, 0.96 * size])
    length = float(np.hypot(*(end - ostium)))
    L = 6.0 / spacing_mm

    def diam(u: np.ndarray) -> np.ndarray:
        d = np.full_like(u, artery_diameter_mm / spacing_mm)
        if stenosis_percent:
            s = u - length / 2
            bump = np.where(np.abs(s) < L / 2, 0.5 * (1 + np.cos(2 * np.pi * s / L)), 0.0)
            d = d * (1 - stenosis_percent / 100.0 * bump)
        return d

    art = segment_tube((size, size), ostium, end, diam, flat_ends=True)
    lab[art] = 1
    cath_w = french / 3.0 / spacing_mm
    if catheter:
        top = np.array([-10.0, 0.06 * size])
        direction = (ostium - top) / np.hypot(*(ostium - top))
        tip = ostium - (2.0 + cath_w / 2) * direction
        cat = segment_tube((size, size), top, tip, cath_w, flat_ends=True)
        lab[cat & (lab == 0)] = 2
    mid = ostium + (end - ostium) / 2
    return lab, {
        "ostium_rc": tuple(ostium),
        "end_rc": tuple(end),
        "stenosis_rc": tuple(mid),
        "catheter_width_px": cath_w,
        "spacing_mm": spacing_mm,
        "mld_mm": artery_diameter_mm * (1 - (stenosis_percent or 0) / 100.0),
        "reference_mm": artery_diameter_mm,
    }


def blurred_tube_image(
    size: int = 96,
    spacing_mm: float = 0.25,
    diameter_mm: float = 3.0,
    angle: float = 0.35,
    mu_per_mm: float = 0.2,
    psf_sigma_px: float = 0.7,
    background: float = 0.8,
    slope: float = 0.0,
    noise_sd: float = 0.0,
    stenosis_percent: Optional[float] = None,
    stenosis_length_mm: float = 8.0,
    supersample: int = 5,
    seed: int = 0,
    wire_mm: float = 0.0,
    wire_mu_per_mm: float = 0.0,
    wire_offset_mm: float = 0.0,
) -> Tuple[np.ndarray, np.ndarray, dict]:
    """X-ray image of a straight cylinder (optionally with a cosine stenosis) and its pixel-centre mask.

    Transmission ``background x (1 + slope x col / size) x exp(-mu x chord)``, the chord of a cylinder of the
    local diameter ``2 sqrt(R^2 - v^2)`` (mm), computed on a ``supersample`` x finer grid, blurred by a Gaussian
    PSF of ``psf_sigma_px`` (continuous, on the fine grid) and sampled at the pixel centres; optional Gaussian
    noise. The mask is the pixel-centre test of the same tube (``tube_with_stenosis`` geometry). ``wire_mm > 0``
    adds a guidewire inside it: a cylinder of that diameter, ``wire_offset_mm`` off the axis, attenuation
    ``wire_mu_per_mm``.

    Returns:
        ``(image, mask, truth)`` with the mask/truth of :func:`tube_with_stenosis`.
    """
    from scipy import ndimage

    mask, truth = tube_with_stenosis(
        size=size, spacing_mm=spacing_mm, diameter_mm=diameter_mm, angle=angle, stenosis_percent=stenosis_percent,
        stenosis_length_mm=stenosis_length_mm,
    )
    ss = int(supersample)
    f = (np.arange(size * ss) + 0.5) / ss - 0.5  # fine-grid coordinates in px
    rr, cc = np.meshgrid(f, f, indexing="ij")
    p0 = np.asarray(truth["p0"], float)
    p1 = np.asarray(truth["p1"], float)
    t = (p1 - p0) / np.hypot(*(p1 - p0))
    u = (rr - p0[0]) * t[0] + (cc - p0[1]) * t[1]
    v = -(rr - p0[0]) * t[1] + (cc - p0[1]) * t[0]
    half = truth["length_px"] / 2
    s_mm = (u - half) * spacing_mm
    d = np.full_like(u, diameter_mm / spacing_mm)
    if stenosis_percent:
        bump = np.where(np.abs(s_mm) < stenosis_length_mm / 2, 0.5 * (1 + np.cos(2 * np.pi * s_mm / stenosis_length_mm)), 0)
        d = d * (1 - stenosis_percent / 100.0 * bump)
    r = d / 2
    chord_mm = 2.0 * np.sqrt(np.maximum(r * r - v * v, 0.0)) * spacing_mm
    att = mu_per_mm * chord_mm
    if wire_mm > 0:
        rw = 0.5 * wire_mm / spacing_mm
        vw = v - wire_offset_mm / spacing_mm
        att = att + wire_mu_per_mm * 2.0 * np.sqrt(np.maximum(rw * rw - vw * vw, 0.0)) * spacing_mm
    trans = np.exp(-att)
    if psf_sigma_px > 0:
        trans = ndimage.gaussian_filter(trans, psf_sigma_px * ss, mode="nearest")
    img = trans[ss // 2 :: ss, ss // 2 :: ss] * background * (1 + slope * np.arange(size)[None, :] / size)
    if noise_sd > 0:
        img = img + np.random.default_rng(seed).normal(0.0, noise_sd, img.shape)
    return img.astype(np.float64), mask, truth


def tree_image(
    shape: Tuple[int, int],
    tubes: Sequence[Tuple[Sequence[float], Sequence[float], Any]],
    spacing_mm: float,
    mu_per_mm: float = 0.25,
    background: float = 0.8,
    psf_sigma_px: float = 0.7,
    supersample: int = 3,
) -> Tuple[np.ndarray, np.ndarray]:
    """X-ray image and pixel-centre lumen mask of straight cylinders ``(p0, p1, diameter_px)`` (row, col; the
    diameter a number or a callable of the arc position in px, as in :func:`segment_tube`).

    Transmission ``background x exp(-mu x chord)`` with the longest chord of the tubes at each point (overlaps are
    not added up), on a ``supersample`` x finer grid, blurred by a Gaussian PSF of ``psf_sigma_px`` and sampled at
    the pixel centres.
    """
    from scipy import ndimage

    ss = int(supersample)
    rr, cc = np.meshgrid(*((np.arange(n * ss) + 0.5) / ss - 0.5 for n in shape), indexing="ij")
    chord = np.zeros_like(rr)
    lumen = np.zeros(shape, bool)
    for p0, p1, diameter_px in tubes:
        a, b = np.asarray(p0, float), np.asarray(p1, float)
        length = float(np.hypot(*(b - a)))
        t = (b - a) / length
        u = (rr - a[0]) * t[0] + (cc - a[1]) * t[1]
        v = -(rr - a[0]) * t[1] + (cc - a[1]) * t[0]
        uc = np.clip(u, 0.0, length)
        r = 0.5 * (diameter_px(uc) if callable(diameter_px) else np.full_like(uc, float(diameter_px)))
        dist = np.hypot(u - uc, v)
        chord = np.maximum(chord, 2.0 * np.sqrt(np.maximum(r * r - dist * dist, 0.0)))
        lumen |= segment_tube(shape, p0, p1, diameter_px)
    fine = ndimage.gaussian_filter(background * np.exp(-mu_per_mm * chord * spacing_mm), psf_sigma_px * ss)
    return fine[ss // 2 :: ss, ss // 2 :: ss], lumen
