"""Bridging of short gaps in a vessel mask through the image (broken contours at stenoses).

A segmentation model that learned "narrow = background" interrupts the artery mask exactly at tight lesions:
the mask has a gap of a few pixels where the image still shows the narrowed, dark lumen. Clinical QCA
software handles a broken contour by tracing the vessel through the image; this module does the same:

1. :func:`find_gap_bridges`: pairs of skeleton **end points** on different connected parts of the mask that
   face each other (end to end, each within ``max_angle_deg`` of the line joining them), whose gap (end point
   distance minus the two local radii) is at most ``max_gap_px``, are joined by a **minimum-cost path through
   the image** (:func:`skimage.graph.route_through_array`, cost small where the locally normalised image is
   dark) inside a corridor around the two ends. A bridge is kept only when the path is dark: its median
   intensity lies at least ``min_contrast`` of the way from the local background to the vessel.
2. :func:`bridge_mask_gaps`: draws the accepted paths (one pixel wide) into the mask, so the centreline
   graph, the clinical branch filter and path finding see one connected vessel, and returns a map of the
   bridged pixels.
3. :func:`apply_bridge_diameters`: in the profile samples on and next to a bridge the mask says nothing, so
   the diameter is measured from the image edges (maximum-gradient method of
   :mod:`~monai_angio.qca.diameter`) and scaled by the ratio of the mask/image diameters of the healthy
   samples on both sides of the gap (the image method reads ~8 % low on blurred vessels). The samples are
   flagged in :attr:`~monai_angio.qca.diameter.DiameterProfile.bridged`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from scipy import ndimage
from skimage.graph import route_through_array
from skimage.morphology import skeletonize

from .diameter import DiameterProfile, image_edge_widths

__all__ = ["GapBridge", "find_gap_bridges", "bridge_mask_gaps", "apply_bridge_diameters", "BRIDGE_WARNING"]

#: prefix of the report warning of a bridged gap (lesion lists ignore it when ranking reports)
BRIDGE_WARNING = "mask interrupted"


@dataclass
class GapBridge:
    """One bridged gap.

    Attributes:
        start_rc, end_rc: the two skeleton end points that were joined.
        path_rc: ``(N, 2)`` pixel path through the image from ``start_rc`` to ``end_rc``.
        gap_px: end point distance minus the two local vessel radii (the mask gap), px.
        contrast: median darkness of the path between background (0) and vessel (1).
    """

    start_rc: Tuple[int, int]
    end_rc: Tuple[int, int]
    path_rc: np.ndarray
    gap_px: float
    contrast: float

    def to_dict(self) -> Dict[str, Any]:
        return {
            "start_rc": [int(v) for v in self.start_rc],
            "end_rc": [int(v) for v in self.end_rc],
            "gap_px": float(self.gap_px),
            "contrast": float(self.contrast),
            "n_pixels": int(len(self.path_rc)),
        }


def _endpoints(skel: np.ndarray) -> List[Tuple[int, int]]:
    nb = ndimage.convolve(skel.astype(np.int32), np.ones((3, 3), np.int32), mode="constant") - 1
    return [tuple(p) for p in np.argwhere(skel & (nb == 1))]


def _outward_direction(skel: np.ndarray, p: Tuple[int, int], reach_px: float) -> Optional[np.ndarray]:
    """Unit vector pointing out of the vessel at skeleton end point ``p``.

    Principal axis of the skeleton pixels of the same part within ``reach_px`` of ``p``, oriented from their
    centroid towards ``p`` (robust to the small fork that a skeleton makes at a blunt or concave tip).
    """
    r0, c0 = p
    rad = int(np.ceil(reach_px)) + 1
    sl = (slice(max(0, r0 - rad), r0 + rad + 1), slice(max(0, c0 - rad), c0 + rad + 1))
    lab, _ = ndimage.label(skel[sl], np.ones((3, 3)))
    pr, pc = r0 - sl[0].start, c0 - sl[1].start
    pts = np.argwhere(lab == lab[pr, pc]).astype(float)
    d = np.hypot(pts[:, 0] - pr, pts[:, 1] - pc)
    pts = pts[d <= reach_px]
    if len(pts) < 3:
        return None
    cen = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - cen, full_matrices=False)
    v = vt[0]
    if float(v @ (np.array([pr, pc], float) - cen)) < 0:
        v = -v
    return v


#: two end points of the same connected part are bridged only when the way between them through the mask is at
#: least this many times their straight distance (+ 20 px): a vessel broken at a tight lesion whose two sides are
#: still joined far away (through a crossing or a loop in projection), not two tips of neighbouring branches
SAME_PART_DETOUR = 3.0


def _far_apart_in_mask(part: np.ndarray, a: Tuple[int, int], b: Tuple[int, int], straight_px: float) -> bool:
    """Whether the shortest way from ``a`` to ``b`` inside ``part`` (one connected part of a mask) is longer than
    :data:`SAME_PART_DETOUR` times ``straight_px`` + 20 px."""
    limit = SAME_PART_DETOUR * straight_px + 20.0
    rows, cols = np.nonzero(part)
    r0, r1 = rows.min(), rows.max() + 1
    c0, c1 = cols.min(), cols.max() + 1
    cost = np.where(part[r0:r1, c0:c1], 1.0, np.inf)
    try:
        _, length = route_through_array(
            cost, (a[0] - r0, a[1] - c0), (b[0] - r0, b[1] - c0), fully_connected=True, geometric=True
        )
    except ValueError:
        return True
    return bool(length > limit)


def find_gap_bridges(
    mask: np.ndarray,
    image: np.ndarray,
    max_gap_px: float,
    max_angle_deg: float = 40.0,
    min_contrast: float = 0.1,
    min_component_px: int = 10,
) -> List[GapBridge]:
    """Short end-to-end gaps between different connected parts of ``mask``, bridged through ``image``.

    Two ends of the *same* part are bridged too when the way between them through the mask is a long detour
    (:data:`SAME_PART_DETOUR`): a branch broken at a tight lesion whose distal part joins the tree again elsewhere.

    Args:
        mask: ``(H, W)`` boolean vessel mask.
        image: ``(H, W)`` angiogram (vessels dark).
        max_gap_px: largest mask gap bridged (end point distance minus the two local radii), px.
        max_angle_deg: each end's outward direction must point within this angle at the other end.
        min_contrast: the path's median intensity must lie at least this fraction of the way from the local
            background to the local vessel intensity. The contrast of a lumen is about proportional to its width
            (the X-ray path through it) and the blur takes more: in the gap of an 85-90 % lesion (0.3-0.45 mm
            lumen in a 3 mm vessel, PSF 0.7 px at 0.25 mm/px) the path reaches only 0.13-0.2, hence 0.1. Over a
            short gap the blur of the two vessel ends alone darkens the path about as much, so there the decision
            is the geometric one (two ends facing each other); a longer gap must show its lumen.
        min_component_px: parts smaller than this (specks) are ignored.

    Returns:
        accepted bridges, at most one per end point (the shortest gap first).
    """
    m = np.asarray(mask, bool)
    img = np.asarray(image, np.float64)
    if max_gap_px <= 0 or not m.any():
        return []
    lab, _ = ndimage.label(m, np.ones((3, 3)))
    sizes = np.bincount(lab.ravel())
    dist = ndimage.distance_transform_edt(m)
    skel = skeletonize(m)
    ends = [p for p in _endpoints(skel) if sizes[lab[p]] >= min_component_px]
    if len(ends) < 2:
        return []
    cos_min = np.cos(np.deg2rad(max_angle_deg))
    dirs = {p: _outward_direction(skel, p, max(10.0, 4.0 * float(np.max(dist[max(0, p[0] - 3) : p[0] + 4, max(0, p[1] - 3) : p[1] + 4])))) for p in ends}
    arr = np.array(ends, float)
    cands = []
    for i, a in enumerate(ends):
        for j in range(i + 1, len(ends)):
            b = ends[j]
            v = arr[j] - arr[i]
            d = float(np.hypot(*v))
            gap = d - dist[a] - dist[b]
            if gap > max_gap_px or d < 1e-9:
                continue
            u = v / d
            da, db = dirs[a], dirs[b]
            if d > 3.0 and (da is None or db is None or float(da @ u) < cos_min or float(db @ -u) < cos_min):
                continue
            if lab[a] == lab[b] and not _far_apart_in_mask(lab == lab[a], a, b, d):
                continue
            cands.append((gap, a, b))
    cands.sort()
    used = set()
    out: List[GapBridge] = []
    h, w = m.shape
    smooth = ndimage.gaussian_filter(img, 1.0)
    for gap, a, b in cands:
        if a in used or b in used:
            continue
        r = max(dist[a], dist[b])
        pad = int(np.ceil(2.0 * r + 4))
        r0, r1 = max(0, min(a[0], b[0]) - pad), min(h, max(a[0], b[0]) + pad + 1)
        c0, c1 = max(0, min(a[1], b[1]) - pad), min(w, max(a[1], b[1]) + pad + 1)
        crop = smooth[r0:r1, c0:c1]
        lc = lab[r0:r1, c0:c1]
        own = (lc == lab[a]) | (lc == lab[b])
        vessel_px = crop[own]
        bg_px = crop[lc == 0]
        if vessel_px.size < 3 or bg_px.size < 3:
            continue
        v_int, b_int = float(np.median(vessel_px)), float(np.median(bg_px))
        if b_int - v_int <= 1e-9:
            continue  # no dark vessel here
        norm = np.clip((crop - v_int) / (b_int - v_int), 0.0, 1.5)  # 0 = vessel, 1 = background
        cost = 0.02 + norm**2
        big = sizes[lc] >= min_component_px
        cost[(lc > 0) & ~own & big] = 1e3  # never through another vessel part (specks in the gap are fine)
        # stay in a corridor around the straight line (no detour to a neighbouring vessel)
        rr, cc = np.mgrid[r0:r1, c0:c1]
        ab = np.array(b, float) - np.array(a, float)
        L = float(np.hypot(*ab))
        off = np.abs(-(rr - a[0]) * ab[1] + (cc - a[1]) * ab[0]) / L
        corridor = off <= max(r, 2.0) + 1.0
        cost[~corridor] = 1e3
        try:
            path, _ = route_through_array(
                cost, (a[0] - r0, a[1] - c0), (b[0] - r0, b[1] - c0), fully_connected=True, geometric=True
            )
        except ValueError:
            continue
        path = np.asarray(path, int)
        if np.any(cost[path[:, 0], path[:, 1]] >= 1e3):
            continue
        gap_pix = lc[path[:, 0], path[:, 1]] == 0
        if not gap_pix.any():
            continue
        contrast = float(1.0 - np.median(norm[path[gap_pix, 0], path[gap_pix, 1]]))
        if contrast < min_contrast:
            continue
        used.update((a, b))
        out.append(GapBridge(tuple(a), tuple(b), path + np.array([r0, c0]), float(max(gap, 0.0)), contrast))
    return out


def bridge_mask_gaps(
    mask: np.ndarray, image: np.ndarray, max_gap_px: float, **kwargs: Any
) -> Tuple[np.ndarray, np.ndarray, List[GapBridge]]:
    """Draw the bridges of :func:`find_gap_bridges` into a copy of ``mask``.

    Returns:
        ``(bridged_mask, bridge_pixels, bridges)``: the connected mask, the boolean map of the drawn pixels
        that were background, and the bridges.
    """
    m = np.asarray(mask, bool)
    bridges = find_gap_bridges(m, image, max_gap_px, **kwargs)
    drawn = np.zeros_like(m)
    for br in bridges:
        drawn[br.path_rc[:, 0], br.path_rc[:, 1]] = True
    drawn &= ~m
    return m | drawn, drawn, bridges


def apply_bridge_diameters(
    profile: DiameterProfile,
    image: np.ndarray,
    bridge_pixels: np.ndarray,
    original_mask: np.ndarray,
    image_sigma: float = 1.0,
    near_px: float = 1.5,
) -> DiameterProfile:
    """Replace the mask diameters of the samples on a bridged gap by calibrated image-edge diameters (in place).

    The bridged zone is every run of samples within ``near_px`` of a drawn bridge pixel (``near_px=0``: the map is
    used as given, e.g. already dilated),
    widened by half the healthy diameter on each side (the mask is cut obliquely there). The image diameter is
    scaled by ``median(mask) / median(image)`` over the healthy samples from the zone edge to 4 healthy
    diameters away, on both sides (default 1 / 0.92 when there are too few).
    """
    n = len(profile)
    if n == 0 or not np.any(bridge_pixels):
        return profile
    bp = np.asarray(bridge_pixels, bool)
    near = ndimage.distance_transform_edt(~bp) <= near_px if near_px > 0 else bp
    h, w = near.shape
    ij = np.clip(np.rint(profile.path_rc).astype(int), 0, [h - 1, w - 1])
    on = near[ij[:, 0], ij[:, 1]]
    if not on.any():
        return profile
    om = np.asarray(original_mask, bool)
    raw = profile.raw_diameter_px.copy()
    lab, nz = ndimage.label(on)
    zones = []
    for k in range(1, nz + 1):
        idx = np.nonzero(lab == k)[0]
        zones.append((int(idx[0]), int(idx[-1])))
    healthy_d = float(np.median(raw[~on])) if np.any(~on) else 4.0
    img = np.asarray(image, np.float64)
    if image_sigma > 0:
        img = ndimage.gaussian_filter(img, image_sigma)
    ext = int(np.ceil(0.5 * healthy_d))
    far = int(np.ceil(4.0 * healthy_d))
    bridged = np.zeros(n, bool) if profile.bridged is None else profile.bridged.copy()
    zones_out = []
    for i0, i1 in zones:
        z0, z1 = max(0, i0 - ext), min(n - 1, i1 + ext)
        side = np.r_[np.arange(max(0, z0 - far), z0), np.arange(z1 + 1, min(n, z1 + 1 + far))]
        side = side[~on[side]] if side.size else side
        hw_guess = 0.5 * (float(np.median(raw[side])) if side.size else healthy_d)
        idx_all = np.r_[side, np.arange(z0, z1 + 1)].astype(int)
        widths = image_edge_widths(img, profile.path_rc[idx_all], profile.normals[idx_all], hw_guess)
        w_side, w_zone = widths[: side.size], widths[side.size :]
        ok = np.isfinite(w_side) & (w_side > 0) & (raw[side] > 0)
        ratio = float(np.median(raw[side][ok] / w_side[ok])) if ok.sum() >= 5 else 1.0 / 0.92
        ratio = float(np.clip(ratio, 0.8, 1.4))
        good = np.isfinite(w_zone)
        zi = np.arange(z0, z1 + 1)
        raw[zi[good]] = w_zone[good] * ratio
        bridged[zi] = True
        # samples of the zone without image edges: interpolate
        if (~good).any() and good.any():
            raw[zi[~good]] = np.interp(zi[~good], zi[good], raw[zi[good]])
        s = profile.arc_length_px
        zones_out.append(
            {
                "start_px": float(s[z0]),
                "end_px": float(s[z1]),
                "image_to_mask_ratio": ratio,
                "off_mask_samples": int(np.sum(~om[ij[zi, 0], ij[zi, 1]])),
            }
        )
    smooth = ndimage.median_filter(raw, size=3, mode="nearest") if n > 3 else raw
    smooth = ndimage.gaussian_filter1d(smooth, float(profile.details.get("profile_sigma", 1.0)) or 0.01, mode="nearest")
    profile.raw_diameter_px = raw
    profile.diameter_px = np.asarray(smooth, float)
    profile.bridged = bridged
    profile.details["bridged_zones"] = zones_out
    return profile
