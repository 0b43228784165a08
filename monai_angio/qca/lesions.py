"""Automatic lesion search, vessel segment by vessel segment (clinical QCA style).

Without user-defined start/end points, :func:`~monai_angio.qca.pipeline.analyze_stenosis` calls
:func:`find_lesions` on the major vessels (origin >= 2 mm, :func:`~monai_angio.qca.branches.filter_major_branches`):

1. The centreline graph of the major vessels is split into **segments** between the ostium, junctions and
   end points (:attr:`~monai_angio.qca.centerline.VesselGraph.branches`), each oriented away from the ostium.
2. Each segment's diameter profile is measured on the full artery mask and **cropped**: the ostium (two vessel
   diameters, where the catheter tip cuts the artery mask), every **junction neighbourhood** (the inscribed
   diameter at the junction + 1 px, extended while the profile stays more than 25 % above the segment's
   median, i.e. while the perpendicular profile still crosses the other branch) and one vessel radius at free
   end points are removed, so junction spikes enter neither the reference fit nor the MLD search.
3. The interpolated reference is fitted **per segment** (a bifurcation is a step in the reference: the daughter
   vessels are thinner) with :func:`~monai_angio.qca.stenosis.analyze_profile`.
4. A lesion needs **healthy reference on both sides**: at least ``max(3, 0.5 reference diameters)`` samples of
   the reference fit proximal and distal to the obstruction. Otherwise the narrowing runs into the end of the
   segment (a tapering distal end, a segment end next to a junction): that part is trimmed off and the
   segment re-analysed (at most 3 times), so tapering ends are never reported as lesions.
5. The reference of a long segment is re-fitted on +-max(2 lesion lengths, 10 mm) around the lesion.

The worst lesion (highest %DS, reports without warnings first) is the result; every lesion at or above
``report_threshold`` %DS is listed in ``details["lesions"]``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import networkx as nx
import numpy as np

from monai_angio.errors import AngioInputError

from .calibration import Calibration
from .centerline import VesselGraph
from .diameter import DiameterProfile, diameter_profile
from .stenosis import StenosisReport, _serious, analyze_profile, crop_profile

__all__ = ["segment_crop", "healthy_sides", "analyze_segment", "find_lesions", "lesion_summary"]


def segment_crop(
    profile: DiameterProfile,
    start_kind: str,
    end_kind: str,
    start_radius_px: float = 0.0,
    end_radius_px: float = 0.0,
    spike_factor: float = 1.25,
) -> Tuple[int, int]:
    """Sample range ``[i0, i1)`` of a segment profile left after removing ostium, junction and end regions.

    Args:
        profile: the segment's diameter profile, oriented from ``start`` to ``end``.
        start_kind, end_kind: ``"ostium"``, ``"junction"`` or ``"end"`` (free end point).
        start_radius_px, end_radius_px: EDT radius at a junction end (its inscribed radius).
        spike_factor: a junction exclusion is extended while the raw (mask, when the profile keeps it) diameter
            exceeds this multiple of the median of the segment's central half (another branch still crosses the
            perpendicular line).
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
            return 2.0 * dmed
        if kind == "junction":
            return max(2.0 * r_j, dmed) + 1.0
        return max(3.0, 0.5 * dmed)

    total = float(s[-1])
    a_px, b_px = _margin(start_kind, start_radius_px), total - _margin(end_kind, end_radius_px)
    i0 = int(np.searchsorted(s, a_px))
    i1 = int(np.searchsorted(s, b_px, side="right"))
    lim = spike_factor * dmed
    if start_kind == "junction":
        while i0 < i1 and raw[i0] > lim:
            i0 += 1
    if end_kind == "junction":
        while i1 > i0 and raw[i1 - 1] > lim:
            i1 -= 1
    return i0, max(i0, i1)


def healthy_sides(rep: StenosisReport, min_samples: Optional[int] = None) -> Tuple[int, int]:
    """Numbers of reference-fit samples proximal and distal to the lesion of a report.

    A narrowing without enough samples on one side runs into the end of the analysed segment. ``min_samples``
    is unused (kept for symmetry with the check in :func:`analyze_segment`).
    """
    s = rep.profile.arc_length_mm
    used = np.asarray(rep.fit_used if rep.fit_used_core is None else rep.fit_used_core, bool)
    # the narrowing's core (more than the threshold below the reference), not its fitted shoulders
    lo = min(rep.details.get("lesion_threshold_start_mm", rep.lesion_start_mm), rep.mld_position_mm)
    hi = max(rep.details.get("lesion_threshold_end_mm", rep.lesion_end_mm), rep.mld_position_mm)
    return int(np.sum(used & (s < lo))), int(np.sum(used & (s > hi)))


def _two_sided(rep: StenosisReport) -> bool:
    step = float(np.median(np.diff(rep.profile.arc_length_mm))) if len(rep.profile) > 1 else rep.mm_per_px
    need = max(3, int(np.ceil(0.5 * rep.reference_diameter_mm / max(step, 1e-9))))
    before, after = healthy_sides(rep)
    return before >= need and after >= need


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
) -> Optional[StenosisReport]:
    """QCA of the samples ``[i0, i1)`` of a segment profile, with healthy reference on both sides of the lesion.

    Returns None when the segment is (or becomes, after trimming) too short: less than 3 median diameters
    and 12 samples. The returned report's ``details["segment_samples"]`` holds the final ``[i0, i1)``.
    """
    mm = calibration.mm_per_px
    for _ in range(max_trims + 1):
        if i1 - i0 < 12:
            return None
        crop = crop_profile(profile, i0, i1)
        if crop.arc_length_px[-1] < 3.0 * float(np.median(crop.raw_diameter_px)):
            return None
        try:
            rep = analyze_profile(crop, calibration, degree, lesion_threshold, end_margin_px=1.0, filename=filename)
        except AngioInputError:
            return None
        if _two_sided(rep):
            break
        before, after = healthy_sides(rep)
        s = crop.arc_length_mm
        t0 = rep.details.get("lesion_threshold_start_mm", rep.lesion_start_mm)
        t1 = rep.details.get("lesion_threshold_end_mm", rep.lesion_end_mm)
        if before <= after:  # the narrowing runs into the start: drop everything up to its distal end
            i0 = i0 + int(np.searchsorted(s, max(t1, rep.mld_position_mm), side="right"))
        else:
            i1 = i0 + int(np.searchsorted(s, min(t0, rep.mld_position_mm)))
    else:
        return None
    # local reference: +-max(2 lesion lengths, 10 mm) around the lesion of a long segment
    if local_window:
        half = (max(2.0 * rep.lesion_length_mm, 10.0) + 0.5 * rep.lesion_length_mm) / mm
        centre = rep.mld_position_mm / mm
        sc = profile.arc_length_px[i0:i1] - profile.arc_length_px[i0]
        j0 = i0 + int(np.searchsorted(sc, centre - half))
        j1 = i0 + int(np.searchsorted(sc, centre + half))
        if j1 - j0 < i1 - i0 and j1 - j0 >= 20:
            try:
                local = analyze_profile(
                    crop_profile(profile, j0, j1), calibration, degree, lesion_threshold, end_margin_px=1.0,
                    filename=filename,
                )
                if not _serious(local) and _two_sided(local):
                    rep, i0, i1 = local, j0, j1
            except AngioInputError:
                pass
    rep.details["segment_samples"] = [int(i0), int(i1)]
    return rep


def lesion_summary(rep: StenosisReport) -> Dict[str, Any]:
    """Compact dictionary of one lesion (for ``details["lesions"]``)."""
    return {
        "percent_diameter_stenosis": float(rep.percent_diameter_stenosis),
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

    Returns:
        reports sorted by decreasing %DS (reports without warnings first); each has ``details["segment"]``
        (segment index, its end pixels and kinds) and ``details["segment_offset_mm"]`` (arc length of the
        analysed part from the segment start).
    """
    g = graph.graph
    try:
        dist = nx.single_source_dijkstra_path_length(g, root, weight="weight")
    except nx.NodeNotFound:
        dist = {}
    deg = dict(g.degree())
    reps: List[StenosisReport] = []
    for br in graph.branches:
        if len(br.path) < 8 or br.start == br.end:
            continue
        path = br.path
        a, b = tuple(br.start), tuple(br.end)
        if a in dist and b in dist:
            flip = dist[b] < dist[a]
        else:
            flip = graph.distance[b] > graph.distance[a]
        if flip:
            path, a, b = path[::-1], b, a

        def _kind(node: Tuple[int, int]) -> str:
            if node == tuple(root):
                return "ostium"
            return "junction" if deg.get(node, 0) >= 3 else "end"

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
        i0, i1 = segment_crop(prof, ka, kb, float(graph.distance[a]), float(graph.distance[b]))
        rep = analyze_segment(prof, calibration, i0, i1, degree, lesion_threshold, filename=filename)
        if rep is None:
            continue
        j0 = rep.details["segment_samples"][0]
        rep.details["segment"] = {
            "index": int(br.index),
            "start_rc": [int(a[0]), int(a[1])],
            "end_rc": [int(b[0]), int(b[1])],
            "start_kind": ka,
            "end_kind": kb,
            "length_mm": float(prof.arc_length_px[-1] * calibration.mm_per_px),
        }
        rep.details["segment_offset_mm"] = float(prof.arc_length_px[j0] * calibration.mm_per_px)
        reps.append(rep)
    reps.sort(key=lambda r: (_serious(r), -r.percent_diameter_stenosis))
    return reps
