"""Automatic lesion search, vessel segment by vessel segment (clinical QCA style).

Without user-defined start/end points, :func:`~monai_angio.qca.pipeline.analyze_stenosis` calls
:func:`find_lesions` on the major vessels (origin >= 2 mm, :func:`~monai_angio.qca.branches.filter_major_branches`):

1. The centreline graph of the major vessels is split into **segments** between the ostium, junctions and
   end points (:attr:`~monai_angio.qca.centerline.VesselGraph.branches`), each oriented away from the ostium. A
   loop (two vessels crossing in projection) is split at its point farthest from its junction.
2. Each segment's diameter profile is measured on the full artery mask and **cropped**: the ostium (up to where the
   lumen clears the catheter tip, at most two vessel diameters), every **junction neighbourhood** (the inscribed
   radius at the junction + 1 px, extended while the profile stays more than 25 % above the upper quartile of
   the next three diameters, i.e. while the perpendicular profile still crosses the other branch), one vessel
   radius at free end points, and every sample whose lumen touches the **image border** (the vessel leaves the
   image: the mask is cut there, a false narrowing; a vessel that comes back into the image is searched on
   either side), so such spikes and cuts enter neither the reference fit nor the MLD search.
3. The interpolated reference is fitted **per segment** (a bifurcation is a step in the reference: the daughter
   vessels are thinner) with :func:`~monai_angio.qca.stenosis.analyze_profile`.
4. A lesion needs **healthy reference on both sides**: at least ``max(3, 0.5 reference diameters)`` samples of
   the reference fit proximal and distal to the obstruction (3 suffice proximally right after a junction or the
   catheter tip: a branch narrow after its junction and wider distally has an ostial lesion, not a taper; none at
   all when the narrowing starts inside the junction's cropped neighbourhood, is focal (MLD within 10 mm, core
   within 20 mm), >= 20 %DS and the branch is back to its reference distally). Otherwise the +-10 mm
   around the narrowing are analysed on their own (a linear reference over a long, non-linearly tapering segment
   overestimates the distal reference, so a focal lesion near the end looks as if it ran into it); if that is
   one-sided too, the narrowing runs into the end of the segment (a tapering distal end): that part is trimmed
   off and the segment re-analysed (at most 3 times), so tapering ends are never reported as lesions.
5. The reference of a long segment is re-fitted on +-max(2 lesion lengths, 10 mm) around the lesion.
6. The parts of the segment proximal and distal to a lesion are searched again the same way (up to 3 lesions per
   segment, :func:`segment_lesions`): a long vessel can hold two lesions, and a straight reference over its
   taper may rank the tighter one second.

The worst lesion (highest %DS, reports without warnings first) is the result; every lesion at or above
``report_threshold`` %DS is listed in ``details["lesions"]``. With image-edge diameters, a narrowing that the mask
boundary (which guides the edge search) does not show (mask %DS below :data:`MASK_LESION_DS`) ranks by the mask's
%DS plus :data:`EDGE_ONLY_MARGIN_DS` points (:func:`ranking_stenosis`): the borders of an overlapping wire, branch
or the image border pull the edges in more often than a mask misses a lesion.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import networkx as nx
import numpy as np
from scipy import ndimage

from monai_angio.errors import AngioInputError

from .calibration import Calibration
from .centerline import VesselGraph
from .diameter import DiameterProfile, diameter_profile
from .stenosis import StenosisReport, _serious, analyze_profile, crop_profile

__all__ = [
    "segment_crop",
    "catheter_clearance",
    "clip_to_image",
    "image_runs",
    "healthy_sides",
    "analyze_segment",
    "segment_lesions",
    "find_lesions",
    "lesion_summary",
    "mask_percent_diameter_stenosis",
    "ranking_stenosis",
    "has_extent",
    "lesion_rank",
    "POINT_LESION_RANK_DS",
    "LESION_LIST_MIN_DS",
    "EDGE_ONLY_MARGIN_DS",
    "MASK_LESION_DS",
]


def segment_crop(
    profile: DiameterProfile,
    start_kind: str,
    end_kind: str,
    start_radius_px: float = 0.0,
    end_radius_px: float = 0.0,
    spike_factor: float = 1.25,
    ostium_clear_px: Optional[float] = None,
) -> Tuple[int, int]:
    """Sample range ``[i0, i1)`` of a segment profile left after removing ostium, junction and end regions.

    Args:
        profile: the segment's diameter profile, oriented from ``start`` to ``end``.
        start_kind, end_kind: ``"ostium"``, ``"junction"`` or ``"end"`` (free end point).
        start_radius_px, end_radius_px: EDT radius at a junction end (its inscribed radius).
        spike_factor: a junction exclusion is extended while the raw (mask, when the profile keeps it) diameter
            exceeds this multiple of the median of the segment's central half (another branch still crosses the
            perpendicular line).
        ostium_clear_px: arc length at which the lumen is clear of the catheter tip (:func:`catheter_clearance`);
            the ostium margin is then that + 2 px, at most two diameters (without it, two diameters: where the
            catheter tip cuts the artery mask).
    """
    s = profile.arc_length_px
    # the junction neighbourhood is a property of the mask (the perpendicular crosses the other branch there);
    # image borders follow the main vessel through it, so the spike test uses the mask diameter when kept
    raw = profile.raw_diameter_px if profile.mask_diameter_px is None else profile.mask_diameter_px
    n = len(s)
    if n == 0:
        return 0, 0
    q = n // 4
    core = raw[q : n - q] if n - 2 * q >= 3 else raw
    dmed = float(np.median(core)) if len(core) else 1.0

    def _margin(kind: str, r_j: float) -> float:
        if kind == "ostium":
            if ostium_clear_px is not None:
                return min(float(ostium_clear_px) + 2.0, 2.0 * dmed)
            return 2.0 * dmed
        if kind == "junction":
            return max(r_j, 0.5 * dmed) + 1.0
        return max(3.0, 0.5 * dmed)

    total = float(s[-1])
    a_px, b_px = _margin(start_kind, start_radius_px), total - _margin(end_kind, end_radius_px)
    i0 = int(np.searchsorted(s, a_px))
    i1 = int(np.searchsorted(s, b_px, side="right"))
    # the spike is judged against the vessel just beyond it (upper quartile of the next ~3 diameters, which a
    # lesion there does not pull down), not the segment median: a tapering segment is legitimately wider near its
    # proximal junction than in its middle
    step = float(np.median(np.diff(s))) if n > 1 else 1.0
    w = max(5, int(np.ceil(3.0 * dmed / max(step, 1e-9))))

    def _beyond(lo: int, hi: int) -> float:
        # never below the segment's median: a lesion filling the window beyond the junction must not make the
        # healthy vessel between the junction and the lesion look like a spike
        part = raw[max(0, lo) : min(n, hi)]
        return max(float(np.percentile(part, 75)), dmed) if len(part) else dmed

    if start_kind == "junction":
        while i0 < i1 and raw[i0] > spike_factor * _beyond(i0 + 1, i0 + 1 + w):
            i0 += 1
    if end_kind == "junction":
        while i1 > i0 and raw[i1 - 1] > spike_factor * _beyond(i1 - 1 - w, i1 - 1):
            i1 -= 1
    return i0, max(i0, i1)


def catheter_clearance(profile: DiameterProfile, catheter_distance: np.ndarray, margin_px: float = 2.0) -> float:
    """Arc length (px) from which a segment's lumen stays clear of the catheter.

    Args:
        profile: the segment's profile, oriented from its ostium.
        catheter_distance: distance (px) of every pixel to the nearest catheter pixel.
        margin_px: a sample whose centre or either edge point lies within this distance of the catheter touches it.

    Returns:
        The arc length just after the last touching sample among the first half of the segment (0 if none touches).
    """
    n = len(profile)
    if n == 0:
        return 0.0
    h, w = catheter_distance.shape
    pts = np.stack([profile.path_rc, profile.edge_left_rc, profile.edge_right_rc], axis=1)  # (N, 3, 2)
    pts = np.where(np.isfinite(pts), pts, profile.path_rc[:, None, :])
    r = np.clip(np.rint(pts[..., 0]), 0, h - 1).astype(int)
    c = np.clip(np.rint(pts[..., 1]), 0, w - 1).astype(int)
    touch = (catheter_distance[r, c] <= margin_px).any(axis=1)[: max(1, n // 2)]
    if not touch.any():
        return 0.0
    last = int(np.nonzero(touch)[0][-1])
    return float(profile.arc_length_px[min(last + 1, n - 1)])


def image_runs(
    profile: DiameterProfile, shape: Tuple[int, int], i0: int, i1: int, margin_px: float = 1.0
) -> List[Tuple[int, int]]:
    """The runs of samples in ``[i0, i1)`` whose lumen lies inside the image, in order along the profile.

    Where a vessel leaves the image (or runs along its edge) the mask is cut by the image border, so its
    perpendicular diameter there is the visible part only, a false narrowing. Samples with an edge point within
    ``margin_px`` of the border are dropped; a vessel that leaves the image and comes back in (an RCA curving out
    of the field) leaves one run on either side, each analysed on its own.
    """
    if i1 <= i0:
        return []
    h, w = int(shape[0]), int(shape[1])
    pts = np.concatenate([profile.edge_left_rc[i0:i1], profile.edge_right_rc[i0:i1]], axis=1).reshape(i1 - i0, 2, 2)
    r, c = pts[..., 0], pts[..., 1]
    gap = np.minimum(np.minimum(r, h - 1 - r), np.minimum(c, w - 1 - c)).min(axis=1)
    ok = ~(gap <= margin_px)  # NaN edge points (no edge found) do not count as cut
    runs: List[Tuple[int, int]] = []
    start = None
    for k, v in enumerate(np.append(ok, False)):
        if v and start is None:
            start = k
        elif not v and start is not None:
            runs.append((i0 + start, i0 + k))
            start = None
    return runs


def clip_to_image(
    profile: DiameterProfile, shape: Tuple[int, int], i0: int, i1: int, margin_px: float = 1.0
) -> Tuple[int, int]:
    """The longest run of samples in ``[i0, i1)`` whose lumen lies inside the image (see :func:`image_runs`)."""
    runs = image_runs(profile, shape, i0, i1, margin_px)
    return max(runs, key=lambda ab: ab[1] - ab[0]) if runs else (i0, i0)


def healthy_sides(rep: StenosisReport, min_samples: Optional[int] = None) -> Tuple[int, int]:
    """Numbers of reference-fit samples proximal and distal to the lesion of a report.

    A narrowing without enough samples on one side runs into the end of the analysed segment. ``min_samples``
    is unused (kept for symmetry with the check in :func:`analyze_segment`).
    """
    before, after = _reference_beside(rep)
    return int(before.sum()), int(after.sum())


def _lesion_core(rep: StenosisReport) -> Tuple[float, float]:
    """Arc-length span (mm) of a report's narrowing core (more than the threshold below the reference, not its
    fitted shoulders), always including the MLD."""
    lo = min(rep.details.get("lesion_threshold_start_mm", rep.lesion_start_mm), rep.mld_position_mm)
    hi = max(rep.details.get("lesion_threshold_end_mm", rep.lesion_end_mm), rep.mld_position_mm)
    return lo, hi


def _reference_beside(rep: StenosisReport) -> Tuple[np.ndarray, np.ndarray]:
    """Masks of the reference-fit samples proximal and distal to the core of a report's lesion."""
    s = rep.profile.arc_length_mm
    used = np.asarray(rep.fit_used if rep.fit_used_core is None else rep.fit_used_core, bool)
    lo, hi = _lesion_core(rep)
    return used & (s < lo), used & (s > hi)


#: farthest MLD (arc length from the start of the analysed samples) of an ostial lesion, one without a healthy
#: sample before it (:func:`_two_sided`); the local analysis window is +-10 mm too
OSTIAL_MAX_MM = 10.0
#: farthest distal end of such an ostial lesion's core: a lesion just after a junction whose proximal shoulder the
#: junction neighbourhood hides runs into that neighbourhood, however long its distal shoulder
OSTIAL_CORE_MAX_MM = 20.0
#: shortest segment from the ostium analysed (in median vessel diameters) when the catheter tip is known: the left
#: main is often only a few diameters long, and a lesion in it can have healthy reference on both sides within 1.5
OSTIAL_SEGMENT_MIN_DIAMETERS = 1.5
#: least %DS of such an ostial lesion: milder dips right after a junction are the shape of the junction itself (the
#: flow divider of two merging tubes), not lesions to rank (20 %DS: the lesion list's reporting threshold)
OSTIAL_MIN_DS = 20.0


def _two_sided(rep: StenosisReport, proximal_junction: bool = False) -> bool:
    """Whether a lesion has healthy reference on both sides (half a reference diameter of fitted samples each).

    Next to a proximal junction (``proximal_junction``) 3 samples suffice before the lesion: the junction
    neighbourhood was cropped off, and a vessel that is narrow right after its junction and wider distally is
    not a taper (arteries narrow distally) but an ostial lesion of the branch. For the same reason a narrowing
    that starts inside the junction's neighbourhood (no healthy sample before it) counts when it is focal (its
    MLD within :data:`OSTIAL_MAX_MM` of the first sample, its core ending within :data:`OSTIAL_CORE_MAX_MM`), at
    least :data:`OSTIAL_MIN_DS` and the branch is back to its reference distally (its reference then comes from the
    distal side alone, as clinical QCA takes it for an ostial lesion). Distally 3 samples suffice when the vessel
    there is back to its reference (:func:`_widens_again`): a long lesion ending close to the segment's end.
    """
    step = float(np.median(np.diff(rep.profile.arc_length_mm))) if len(rep.profile) > 1 else rep.mm_per_px
    need = max(3, int(np.ceil(0.5 * rep.reference_diameter_mm / max(step, 1e-9))))
    before, after = healthy_sides(rep)
    if before < (3 if proximal_junction else need):
        # right after a junction: a focal narrowing starting inside the junction's neighbourhood, followed by the
        # branch at its reference, is an ostial lesion (arteries do not widen downstream)
        return bool(
            proximal_junction
            and after >= need
            and rep.mld_position_mm <= OSTIAL_MAX_MM
            and _lesion_core(rep)[1] <= OSTIAL_CORE_MAX_MM
            and rep.percent_diameter_stenosis >= OSTIAL_MIN_DS
            and _widens_again(rep)
        )
    return after >= need or (after >= 3 and _widens_again(rep))


def _widens_again(rep: StenosisReport, share: float = 0.9) -> bool:
    """Whether the vessel distal to a lesion is back to its reference (median of the fitted samples there at least
    ``share`` of the reference): a lesion that ends close to the end of its segment, not a taper running into it
    (a taper stays narrow to the end)."""
    after = _reference_beside(rep)[1]
    if not after.any():
        return False
    d = rep.profile.diameter_px[after] * rep.mm_per_px
    return bool(np.median(d) >= share * np.median(np.asarray(rep.reference_mm)[after]))


def _local_report(
    profile: DiameterProfile,
    calibration: Calibration,
    i0: int,
    i1: int,
    centre_mm: float,
    half_mm: float,
    degree: int,
    lesion_threshold: float,
    filename: Optional[str],
    proximal_junction: bool = False,
) -> Optional[Tuple[StenosisReport, int, int]]:
    """The report of the window ``centre_mm +- half_mm`` (arc length from sample ``i0``) of ``[i0, i1)``.

    None unless the window is a proper part of the segment (at least 20 samples) whose lesion is two-sided and
    free of serious warnings.
    """
    mm = calibration.mm_per_px
    sc = profile.arc_length_px[i0:i1] - profile.arc_length_px[i0]
    j0 = i0 + int(np.searchsorted(sc, (centre_mm - half_mm) / mm))
    j1 = i0 + int(np.searchsorted(sc, (centre_mm + half_mm) / mm))
    if not (j1 - j0 < i1 - i0 and j1 - j0 >= 20):
        return None
    try:
        local = analyze_profile(
            crop_profile(profile, j0, j1), calibration, degree, lesion_threshold, end_margin_px=1.0, filename=filename
        )
    except AngioInputError:
        return None
    if _serious(local) or not _two_sided(local, proximal_junction and j0 == i0):
        return None
    return local, j0, j1


def analyze_segment(
    profile: DiameterProfile,
    calibration: Calibration,
    i0: int,
    i1: int,
    degree: int = 1,
    lesion_threshold: float = 0.05,
    filename: Optional[str] = None,
    max_trims: int = 3,
    local_window: bool = True,
    proximal_junction: bool = False,
    min_diameters: float = 3.0,
) -> Optional[StenosisReport]:
    """QCA of the samples ``[i0, i1)`` of a segment profile, with healthy reference on both sides of the lesion.

    When the worst narrowing of the segment lacks healthy reference on one side, the +-10 mm around it are
    analysed on their own first: a linear reference over a long, non-linearly tapering segment overestimates the
    distal reference, so a focal lesion near the distal end looks as if it ran into the end. Only if that local
    analysis is one-sided too is the narrowing trimmed off as a taper (at most ``max_trims`` times).

    Args:
        proximal_junction: the segment starts at a junction (see :func:`_two_sided`).
        min_diameters: shortest segment analysed, in median vessel diameters.

    Returns None when the segment is (or becomes, after trimming) too short: less than ``min_diameters`` median
    diameters and 12 samples. The returned report's ``details["segment_samples"]`` holds the final ``[i0, i1)``.
    """
    start = i0
    for _ in range(max_trims + 1):
        if i1 - i0 < 12:
            return None
        crop = crop_profile(profile, i0, i1)
        if crop.arc_length_px[-1] < min_diameters * float(np.median(crop.raw_diameter_px)):
            return None
        try:
            rep = analyze_profile(crop, calibration, degree, lesion_threshold, end_margin_px=1.0, filename=filename)
        except AngioInputError:
            return None
        pj = proximal_junction and i0 == start
        if _two_sided(rep, pj):
            break
        local = _local_report(
            profile, calibration, i0, i1, rep.mld_position_mm, 10.0, degree, lesion_threshold, filename, pj
        )
        if local is not None:
            rep, i0, i1 = local
            rep.details["segment_samples"] = [int(i0), int(i1)]
            return rep
        before, after = healthy_sides(rep)
        s = crop.arc_length_mm
        core_lo, core_hi = _lesion_core(rep)
        if before <= after:  # the narrowing runs into the start: drop everything up to its distal end
            i0 = i0 + int(np.searchsorted(s, core_hi, side="right"))
        else:
            i1 = i0 + int(np.searchsorted(s, core_lo))
    else:
        return None
    # local reference: +-max(2 lesion lengths, 10 mm) around the lesion of a long segment
    if local_window:
        half = max(2.0 * rep.lesion_length_mm, 10.0) + 0.5 * rep.lesion_length_mm
        local = _local_report(
            profile, calibration, i0, i1, rep.mld_position_mm, half, degree, lesion_threshold, filename,
            proximal_junction and i0 == start,
        )
        if local is not None:
            rep, i0, i1 = local
    rep.details["segment_samples"] = [int(i0), int(i1)]
    return rep


def _sample_at(profile: DiameterProfile, start: int, offset_mm: float) -> int:
    """Index of the sample ``offset_mm`` of arc length after sample ``start``."""
    s = profile.arc_length_px - profile.arc_length_px[start]
    return int(np.searchsorted(s, offset_mm / profile.mm_per_px))


def segment_lesions(
    profile: DiameterProfile,
    calibration: Calibration,
    i0: int,
    i1: int,
    degree: int = 1,
    lesion_threshold: float = 0.05,
    filename: Optional[str] = None,
    proximal_junction: bool = False,
    max_lesions: int = 3,
    min_diameters: float = 3.0,
) -> List[StenosisReport]:
    """Every lesion of the samples ``[i0, i1)`` of a segment profile, worst first found, at most ``max_lesions``.

    :func:`analyze_segment` finds the segment's worst narrowing against a reference fitted over the whole segment;
    a long vessel (an RCA) can hold a second, tighter lesion that a straight reference over a tapering vessel
    ranks lower. So the parts proximal and distal to each lesion found (from the segment's ends to the lesion's
    extent; the healthy stretch between two lesions is reference for both) are searched again the same way, each
    lesion with its own local reference. ``min_diameters``: see :func:`analyze_segment`.
    """
    out: List[StenosisReport] = []
    todo = [(int(i0), int(i1), proximal_junction)]
    while todo and len(out) < max_lesions:
        a, b, pj = todo.pop(0)
        rep = analyze_segment(profile, calibration, a, b, degree, lesion_threshold, filename=filename,
                              proximal_junction=pj, min_diameters=min_diameters)
        if rep is None:
            continue
        out.append(rep)
        j0 = rep.details["segment_samples"][0]
        lo = _sample_at(profile, j0, min(rep.lesion_start_mm, rep.mld_position_mm))
        hi = _sample_at(profile, j0, max(rep.lesion_end_mm, rep.mld_position_mm)) + 1
        todo += [(a, min(lo, b), pj), (max(hi, a), b, False)]
    return out


#: A narrowing that the mask boundary shows at less than this %DS is "edge-only" for the ranking
#: (:func:`ranking_stenosis`).
MASK_LESION_DS = 20.0

#: %DS points added to the mask's %DS to rank an edge-only narrowing (:func:`ranking_stenosis`).
EDGE_ONLY_MARGIN_DS = 5.0


def mask_percent_diameter_stenosis(rep: StenosisReport) -> Optional[float]:
    """The %DS that the mask boundary shows at a lesion measured from the image edges.

    The narrowest mask diameter inside the lesion extent (at the MLD sample when the extent is empty) against the
    report's reference scaled to the mask: the reference times the ratio of the mask to the reported diameter
    over the samples of the reference fit (masks and image edges differ by a near-constant width, which cancels).

    Returns None for mask-based profiles or when the mask has no usable diameter there.
    """
    p = rep.profile
    md = p.mask_diameter_px
    if md is None or len(md) != len(p):
        return None
    md, d = np.asarray(md, float), np.asarray(p.diameter_px, float)
    fu = np.asarray(rep.fit_used, bool) & (md > 0) & (d > 0)
    if fu.sum() < 3:
        return None
    ratio = float(np.median(md[fu]) / np.median(d[fu]))
    s = p.arc_length_mm
    inside = (s >= rep.lesion_start_mm) & (s <= rep.lesion_end_mm)
    if not inside.any():
        inside = np.abs(s - rep.mld_position_mm) <= np.abs(s - rep.mld_position_mm).min()
    i = int(np.argmin(np.where(inside, md, np.inf)))
    ref = float(rep.reference_mm[i]) / p.mm_per_px * ratio
    if not (ref > 0 and md[i] > 0):
        return None
    return float((1.0 - md[i] / ref) * 100.0)


def ranking_stenosis(rep: StenosisReport, margin: float = EDGE_ONLY_MARGIN_DS) -> float:
    """The %DS by which :func:`find_lesions` ranks a lesion.

    A narrowing that the image edges show and the (guiding) mask boundary does not (mask %DS below
    :data:`MASK_LESION_DS`) is more often an edge that crossed onto an overlapping structure (a wire, a branch, the
    image border) than a lesion the mask missed: it ranks at the mask's %DS plus ``margin`` points. Where the mask
    shows a lesion too, the edge %DS ranks (a predicted mask fills in a tight lesion, so its %DS reads low there).
    The reported %DS stays the edge one; the mask's is kept in ``details["mask_percent_diameter_stenosis"]``.
    """
    ds = float(rep.percent_diameter_stenosis)
    mds = rep.details.get("mask_percent_diameter_stenosis")
    if mds is None or float(mds) >= MASK_LESION_DS:  # the mask shows a lesion too: the edges measure it
        return ds
    return min(ds, float(mds) + margin)


def has_extent(rep: StenosisReport) -> bool:
    """Whether a report's lesion has a length: some profile sample lies below the reference by more than the fit's
    threshold. Without one, the MLD is a "point lesion" of zero length, the narrowest spot of a profile whose dips
    stay within its noise (a taper below a catheter tip, a wavy border), and :func:`find_lesions` ranks it after
    every reportable lesion with extent (:data:`POINT_LESION_RANK_DS`), whatever its %DS."""
    return rep.lesion_end_mm > rep.lesion_start_mm


#: %DS from which a lesion is listed in an automatic report (``analyze_stenosis(report_threshold=...)``'s default).
LESION_LIST_MIN_DS = 20.0

#: A point lesion (:func:`has_extent`) ranks as if its %DS were at most this: just below
#: :data:`LESION_LIST_MIN_DS`, so that it never outranks a reportable lesion with extent but still a shallower one.
POINT_LESION_RANK_DS = LESION_LIST_MIN_DS - 1e-6


def lesion_rank(rep: StenosisReport) -> Tuple[bool, float]:
    """Sort key of :func:`find_lesions` (ascending = worst first): reports without warnings first, then by
    decreasing :func:`ranking_stenosis`, a point lesion's capped at :data:`POINT_LESION_RANK_DS`."""
    ds = ranking_stenosis(rep)
    return (_serious(rep), -(ds if has_extent(rep) else min(ds, POINT_LESION_RANK_DS)))


def lesion_summary(rep: StenosisReport) -> Dict[str, Any]:
    """Compact dictionary of one lesion (for ``details["lesions"]``)."""
    return {
        "percent_diameter_stenosis": float(rep.percent_diameter_stenosis),
        "mask_percent_diameter_stenosis": rep.details.get("mask_percent_diameter_stenosis"),
        "percent_area_stenosis": float(rep.percent_area_stenosis),
        "mld_mm": float(rep.mld_mm),
        "reference_diameter_mm": float(rep.reference_diameter_mm),
        "lesion_length_mm": float(rep.lesion_length_mm),
        "mld_rc": [float(v) for v in rep.mld_rc],
        "lesion_start_rc": [float(v) for v in rep.lesion_start_rc],
        "lesion_end_rc": [float(v) for v in rep.lesion_end_rc],
        "segment": rep.details.get("segment"),
        "warnings": list(rep.warnings),
    }


def _segment_paths(graph: VesselGraph, min_len: int = 8) -> Tuple[List[Tuple[int, np.ndarray]], set]:
    """``[(branch index, path), ...]`` of the graph's segments, and the split points of loops.

    A loop (a segment that leaves a junction and comes back to it: two vessels crossing in projection, or a
    branch rejoining its parent in the mask) has no second end; it is split at its point farthest from the
    junction, which is then treated as a junction (where the other vessel crosses).
    """
    out: List[Tuple[int, np.ndarray]] = []
    splits = set()
    for br in graph.branches:
        path = np.asarray(br.path)
        if len(path) < min_len:
            continue
        if tuple(br.start) != tuple(br.end):
            out.append((int(br.index), path))
            continue
        if len(path) < 2 * min_len:
            continue
        k = int(np.argmax(np.hypot(*(path - path[0]).T)))
        splits.add((int(path[k][0]), int(path[k][1])))
        out.extend([(int(br.index), path[: k + 1]), (int(br.index), path[k:][::-1])])
    return out, splits


def find_lesions(
    artery: np.ndarray,
    graph: VesselGraph,
    root: Tuple[int, int],
    calibration: Calibration,
    image: Optional[np.ndarray] = None,
    method: Optional[str] = None,
    degree: int = 1,
    lesion_threshold: float = 0.05,
    filename: Optional[str] = None,
    profile_fn: Optional[Callable[[np.ndarray], DiameterProfile]] = None,
    max_lesions_per_segment: int = 3,
    catheter: Optional[np.ndarray] = None,
) -> List[StenosisReport]:
    """One QCA report per analysable vessel segment of ``graph`` (see the module docstring).

    Args:
        artery: binary artery mask (profiles are measured on it).
        graph: centreline graph of the major vessels.
        root: the ostium pixel (a node of ``graph``).
        calibration: mm/px calibration.
        image, method: edge detection options of :func:`~monai_angio.qca.diameter.diameter_profile`.
        degree, lesion_threshold: reference fit options of :func:`~monai_angio.qca.stenosis.analyze_profile`.
        filename: name of the input, for reports.
        profile_fn: measures a segment's profile from its pixel path (default :func:`diameter_profile` on
            ``artery``); :func:`~monai_angio.qca.pipeline.analyze_stenosis` passes one that also measures
            bridged mask gaps from the image (:mod:`~monai_angio.qca.gaps`).
        max_lesions_per_segment: lesions looked for in one segment (:func:`segment_lesions`).
        catheter: the catheter mask, if known: the ostium margin then ends where the lumen is clear of the catheter
            tip (:func:`catheter_clearance`) instead of two vessel diameters from the ostium, and the segment from
            the ostium (a left main, often only a few diameters long) is analysed down to
            :data:`OSTIAL_SEGMENT_MIN_DIAMETERS` diameters, with the ostium as a known proximal boundary like a
            junction (3 healthy samples suffice before a lesion; an ostial lesion needs none, see
            :func:`_two_sided`).

    Returns:
        reports sorted by decreasing %DS (:func:`lesion_rank`: reports without warnings first; a "point lesion",
        :func:`has_extent`, ranks at most at :data:`POINT_LESION_RANK_DS`; a narrowing seen by the image edges and
        not by the mask ranks by the mask's %DS + :data:`EDGE_ONLY_MARGIN_DS`, :func:`ranking_stenosis`); each has
        ``details["segment"]`` (segment index, its end pixels and kinds) and ``details["segment_offset_mm"]`` (arc
        length of the analysed part from the segment start).
    """
    g = graph.graph
    try:
        dist = nx.single_source_dijkstra_path_length(g, root, weight="weight")
    except nx.NodeNotFound:
        dist = {}
    deg = dict(g.degree())
    cath_dist = None
    if catheter is not None and np.any(catheter):
        cath_dist = ndimage.distance_transform_edt(~np.asarray(catheter, bool).reshape(artery.shape[-2:]))
    reps: List[StenosisReport] = []
    pieces, splits = _segment_paths(graph)
    for index, path in pieces:
        a, b = (int(path[0][0]), int(path[0][1])), (int(path[-1][0]), int(path[-1][1]))
        if a in dist and b in dist:
            flip = dist[b] < dist[a]
        else:
            flip = graph.distance[b] > graph.distance[a]
        if flip:
            path, a, b = path[::-1], b, a

        def _kind(node: Tuple[int, int]) -> str:
            if node == tuple(root):
                return "ostium"
            return "junction" if deg.get(node, 0) >= 3 or node in splits else "end"

        ka, kb = _kind(a), _kind(b)
        try:
            if profile_fn is not None:
                prof = profile_fn(path)
            else:
                prof = diameter_profile(
                    artery, path, image=image, calibration=calibration, method=method, filename=filename
                )
        except AngioInputError:
            continue
        clear = catheter_clearance(prof, cath_dist) if ka == "ostium" and cath_dist is not None else None
        i0, i1 = segment_crop(
            prof, ka, kb, float(graph.distance[a]), float(graph.distance[b]), ostium_clear_px=clear
        )
        found = []
        for c0, c1 in image_runs(prof, artery.shape[-2:], i0, i1):
            kr = ka if c0 == i0 else "end"  # a run after the vessel came back into the image starts at an end
            at_tip = kr == "ostium" and clear is not None  # starts where the lumen clears the catheter tip
            found += [
                (rep, kr)
                for rep in segment_lesions(
                    prof, calibration, c0, c1, degree, lesion_threshold, filename=filename,
                    proximal_junction=kr == "junction" or at_tip, max_lesions=max_lesions_per_segment,
                    min_diameters=OSTIAL_SEGMENT_MIN_DIAMETERS if at_tip else 3.0,
                )
            ]
        for rep, kr in found:
            j0 = rep.details["segment_samples"][0]
            rep.details["segment"] = {
                "index": int(index),
                "start_rc": [int(a[0]), int(a[1])],
                "end_rc": [int(b[0]), int(b[1])],
                "start_kind": kr,
                "end_kind": kb,
                "length_mm": float(prof.arc_length_px[-1] * calibration.mm_per_px),
            }
            rep.details["segment_offset_mm"] = float(prof.arc_length_px[j0] * calibration.mm_per_px)
            rep.details["mask_percent_diameter_stenosis"] = mask_percent_diameter_stenosis(rep)
            reps.append(rep)
    reps.sort(key=lesion_rank)
    return reps
