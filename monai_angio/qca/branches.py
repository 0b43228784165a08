"""Clinical relevance filter: keep only vessels whose origin diameter is at least 2 mm.

QCA (and most labelled XCA data sets) consider branches below ~2 mm at their origin clinically irrelevant.
:func:`filter_major_branches` walks the centreline tree from its root (the ostium: the end point next to the
catheter, or the widest end point), measures every branch's diameter just after it leaves its parent's lumen, and
removes branches below the threshold together with everything downstream of them. At each junction the widest
leaving branch (and any other within 15 % of its diameter: a bifurcation into equals; and the one that goes straight
on) continues the parent vessel and keeps its status (down to 0.6 x the threshold): the criterion judges a vessel at
its own origin, not again after every side branch. The root branch of the tree engaged by the catheter (or rooted at
a user point) is always kept, and so are branches whose origin lies at the image border (a vessel re-entering the
field of view: its origin is not visible); other, disconnected trees are judged by their own root branch. A branch
below the threshold on the way from the ostium to a branch that is itself at least the threshold at its origin is
kept as well: arteries do not widen downstream, so such a narrow stretch is a lesion or a segmentation artefact on a
major vessel. Given the image, the mask's width bias against the image borders (:func:`mask_width_bias_px`: a
segmentation traced a pixel inside the lumen reads every vessel two pixels thin) is added to every origin diameter.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import networkx as nx
import numpy as np
from scipy import ndimage

from monai_angio.errors import AngioInputError
from monai_angio.utils.arrays import squeeze_leading

from .centerline import VesselGraph, as_binary_mask, trace_branches, vessel_graph
from .diameter import EDT_SKELETON_BIAS_PX, diameter_profile

__all__ = ["find_root", "taper_at_start", "branch_origin_diameters", "mask_width_bias_px", "filter_major_branches"]

Pixel = Tuple[int, int]


#: centreline trees at least this share of the largest one (in pixels) may hold the ostium next to the catheter
ROOT_TREE_SHARE = 0.25


def find_root(
    graph: VesselGraph, catheter_mask: Optional[np.ndarray] = None, root_rc: Optional[Sequence[float]] = None
) -> Pixel:
    """Root (ostium) of the catheter-engaged centreline tree.

    ``root_rc`` (snapped) wins; otherwise the end point of the largest centreline tree closest to the catheter,
    unless that tree does not touch the catheter (end point farther than its radius + 3 px): then the closest end
    point on any tree at least :data:`ROOT_TREE_SHARE` of the largest one (the vessel the catheter engages may
    leave the image and come back as a larger part); without a catheter the end point of the largest tree with the
    largest vessel radius. End points at the image border (within their vessel radius + 2 px: a vessel leaving the
    field of view, often beside the catheter's own entry) are not candidates while others exist.
    """
    if root_rc is not None:
        return graph.snap(root_rc)
    comps = sorted(nx.connected_components(graph.graph), key=len, reverse=True)
    h, w = graph.mask.shape

    def _ends(comp: set) -> List[Pixel]:
        ends = [n for n in comp if graph.graph.degree(n) <= 1] or sorted(comp)
        inner = [n for n in ends if min(n[0], n[1], h - 1 - n[0], w - 1 - n[1]) > graph.distance[n] + 2.0]
        return inner or ends

    if catheter_mask is not None and np.any(catheter_mask):
        dcat = ndimage.distance_transform_edt(~np.asarray(catheter_mask, bool))
        best = min(_ends(comps[0]), key=lambda n: (dcat[n], n))
        if dcat[best] <= graph.distance[best] + 3.0:  # the largest tree touches the catheter: it is engaged
            return best
        others = set().union(*(c for c in comps if len(c) >= ROOT_TREE_SHARE * len(comps[0])))
        return min(_ends(others), key=lambda n: (dcat[n], n))
    return max(_ends(comps[0]), key=lambda n: (graph.distance[n], n))


def _arc_length_px(path: np.ndarray) -> np.ndarray:
    """Arc length (px) of every point of an ``(N, 2)`` pixel path from its first point."""
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(np.asarray(path, float), axis=0).T))])


def _unit(v: np.ndarray) -> Optional[np.ndarray]:
    n = float(np.hypot(*v))
    return None if n < 1e-9 else v / n


def _towards_root(pred: Dict[Pixel, List[Pixel]], node: Pixel) -> Iterator[Pixel]:
    """``node`` and the pixels before it on its shortest path from the root (``pred``: Dijkstra predecessors)."""
    yield node
    while pred.get(node):
        node = pred[node][0]
        yield node


def _upstream(pred: Dict[Pixel, List[Pixel]], node: Pixel, length_px: float) -> Pixel:
    """The centreline pixel about ``length_px`` before ``node`` on its shortest path from the root."""
    walked, prev = 0.0, node
    for cur in _towards_root(pred, node):
        walked += float(np.hypot(cur[0] - prev[0], cur[1] - prev[1]))
        prev = cur
        if walked >= length_px:
            break
    return prev


def _shortest_from(graph: VesselGraph, root: Pixel) -> Tuple[Dict[Pixel, List[Pixel]], Dict[Pixel, float]]:
    """Dijkstra predecessors and distances (px) of every centreline pixel from ``root``."""
    return nx.dijkstra_predecessor_and_distance(graph.graph, root, weight="weight")


#: a taper fit needs at least this many profile samples (about 1 px apart) to be extrapolated to the window start
_MIN_TAPER_SAMPLES = 8


def taper_at_start(
    arc_px: np.ndarray, diameter_px: np.ndarray, start_px: float, lesion_drop: float = 0.1, max_gain: float = 0.25
) -> Optional[float]:
    """Diameter at ``start_px`` of a tapering vessel, from a robust straight-line fit of its diameter profile.

    Arteries taper: the upper quartile of a window several vessel radii long reads the diameter about a quarter
    of the way in, below the diameter where the window starts (for a side branch a few mm long the difference is
    0.5-1 px). The line is fitted twice, the second time without samples more than ``lesion_drop`` below the
    first fit (a narrowing in the window), and only a diameter that decreases along the vessel is extrapolated.

    Args:
        arc_px: arc length of each sample (px), increasing.
        diameter_px: the samples' diameters (px).
        start_px: where to evaluate the fit (the window start).
        lesion_drop: relative depth below the first fit of the samples left out of the second.
        max_gain: the result is capped at ``1 + max_gain`` times the upper quartile of the samples.

    Returns:
        The fitted diameter at ``start_px``, or None with fewer than 8 samples or a profile that does not taper.
    """
    s = np.asarray(arc_px, float)
    d = np.asarray(diameter_px, float)
    if len(s) < _MIN_TAPER_SAMPLES or float(np.ptp(s)) <= 0:
        return None
    keep = np.ones(len(s), bool)
    for _ in range(2):
        if keep.sum() < _MIN_TAPER_SAMPLES:
            return None
        slope, icpt = np.polyfit(s[keep], d[keep], 1)
        keep = d >= (1.0 - lesion_drop) * (slope * s + icpt)
    if slope >= 0:
        return None
    return float(min(slope * start_px + icpt, (1.0 + max_gain) * np.percentile(d, 75)))


def branch_origin_diameters(
    graph: VesselGraph, root: Pixel, shortest: Optional[Tuple[Dict[Pixel, List[Pixel]], Dict[Pixel, float]]] = None
) -> List[Dict[str, Any]]:
    """Diameter (px) of every branch just after its origin.

    The origin of a branch is its end nearer to ``root`` along the centreline. Its diameter is the 75th
    percentile of the perpendicular-profile diameter (:func:`~monai_angio.qca.diameter.diameter_profile`;
    median bias-corrected ``2 x EDT`` when the branch is too short for a profile) over the part of the
    branch between ``1.5 r_j + 1`` and ``1.5 r_j + 1 + max(6, 6 r_j)`` px from the origin (``r_j`` = EDT at
    the origin, i.e. the parent's radius there), so that the parent's lumen is not counted and a stenosis
    right after a bifurcation does not make the continuing vessel look thin (the upper quartile tracks the
    reference diameter). A lesion can fill that whole window (an ostial stenosis of a side branch), so the upper
    quartile of the next window of the same length counts too: arteries taper, so a diameter measured further
    along is a lower bound of the reference at the origin. For the same reason a tapering branch is read where the
    first window starts, from a robust line fit of its profile there (:func:`taper_at_start`), when that is
    larger. The root branch is measured from one median radius after its end (past the rounded-off end of the
    skeleton). ``shortest``: the Dijkstra predecessors and distances from ``root``, when the caller has them.
    """
    pred, dist = shortest if shortest is not None else _shortest_from(graph, root)
    out = []
    for br in graph.branches:
        if br.start not in dist or len(br.path) == 0:
            continue
        path = br.path if dist[br.start] <= dist.get(br.end, np.inf) else br.path[::-1]
        origin = tuple(int(v) for v in path[0])
        is_root = origin == root
        rj = 0.0 if is_root else float(graph.distance[origin])
        seg = _arc_length_px(path)
        if is_root:  # the skeleton end is rounded off over about one radius: start one radius in
            r_med = float(np.median(graph.distance[path[:, 0], path[:, 1]]))
            lo = r_med + 1.0
            hi = lo + max(6.0, 6.0 * r_med)
        else:
            lo = 1.5 * rj + 1.0
            hi = lo + max(6.0, 6.0 * rj)
        sel = (seg >= lo) & (seg <= hi)
        if not sel.any():
            sel = seg >= min(lo, seg[-1])
        if not sel.any():
            sel = np.ones_like(seg, bool)
        d = 2.0 * graph.distance[path[sel, 0], path[sel, 1]] - EDT_SKELETON_BIAS_PX
        diam = float(np.median(d))
        method = "edt"
        hi2 = hi + (hi - lo)  # the next window: a lower bound of the origin's reference (tapering)
        ctx = (seg >= lo - 3.0) & (seg <= hi2 + 3.0)
        if ctx.sum() >= 4:
            try:
                prof = diameter_profile(
                    graph.mask, path[ctx], path_sigma=1.0, profile_sigma=0.0, distance=graph.distance
                )
                sa = prof.arc_length_px + seg[ctx][0]
                ok = prof.raw_diameter_px > 0
                windows = [ok & (sa >= lo) & (sa <= hi), ok & (sa > hi) & (sa <= hi2)]
                found = [float(np.percentile(prof.raw_diameter_px[w], 75)) for w in windows if w.sum() >= 3]
                if found:
                    diam = max(found)
                    method = "profile"
                    near = taper_at_start(sa[windows[0]], prof.raw_diameter_px[windows[0]], lo)
                    if near is not None and near > diam:
                        diam, method = near, "profile taper"
            except AngioInputError:
                pass
        reach = max(8.0, 3.0 * rj + 2.0)  # past the junction's blob, along each vessel
        ahead = path[min(len(path) - 1, int(np.searchsorted(seg, reach)))]
        out.append(
            {
                "index": br.index,
                "origin_rc": origin,
                "origin_diameter_px": diam,
                "origin_method": method,
                "direction": _unit(np.asarray(ahead, float) - np.asarray(origin, float)),
                "parent_direction": None if is_root else _unit(
                    np.asarray(origin, float) - np.asarray(_upstream(pred, origin, reach), float)
                ),
                "parent_radius_px": rj,
                "length_px": br.length_px,
                "path": path,
                "is_root_branch": is_root,
            }
        )
    return out


#: :func:`mask_width_bias_px` reads the mask's bias on at most this many of the longest branches, each at least
#: this long (px), and needs at least this many samples measured from the image
BIAS_BRANCHES = 4
BIAS_MIN_LENGTH_PX = 20.0
BIAS_MIN_SAMPLES = 20


def mask_width_bias_px(
    graph: VesselGraph, image: np.ndarray, psf_sigma_px: Optional[float] = None
) -> float:
    """How much wider (px) the vessels are between their image borders than in the mask: the mask's width bias.

    A segmentation may trace a vessel a pixel inside its lumen edge (or outside), and then every origin diameter
    measured on the mask is off by the same amount, enough to move a 2.2 mm branch below 2 mm at 0.25 mm/px. The
    bias is the median of (image-border diameter - mask diameter) over the middle of the
    :data:`BIAS_BRANCHES` longest branches (two radii + 2 px from either end, away from junctions), measured with
    QCA's ``"edge"`` method where it found the borders in the image; 0 with fewer than
    :data:`BIAS_MIN_SAMPLES` such samples.
    """
    longest = sorted((b for b in graph.branches if b.length_px >= BIAS_MIN_LENGTH_PX), key=lambda b: -b.length_px)
    diffs: List[np.ndarray] = []
    for br in longest[:BIAS_BRANCHES]:
        path = br.path
        seg = _arc_length_px(path)
        margin = 2.0 * float(np.median(graph.distance[path[:, 0], path[:, 1]])) + 2.0
        mid = (seg >= margin) & (seg <= seg[-1] - margin)
        if mid.sum() < 8:
            continue
        try:
            prof = diameter_profile(
                graph.mask, path[mid], image=image, method="edge", distance=graph.distance, psf_sigma_px=psf_sigma_px
            )
        except AngioInputError:
            continue
        if prof.edge_from_image is None or prof.mask_diameter_px is None:
            continue
        img_d, mask_d = prof.raw_diameter_px, prof.mask_diameter_px
        ok = np.asarray(prof.edge_from_image, bool) & np.isfinite(img_d) & np.isfinite(mask_d) & (mask_d > 0)
        diffs.append(img_d[ok] - mask_d[ok])
    d = np.concatenate(diffs) if diffs else np.zeros(0)
    return float(np.median(d)) if len(d) >= BIAS_MIN_SAMPLES else 0.0


#: a vessel's continuation through a side-branch junction keeps its status while at least this share of the
#: threshold wide (below it a binary mask's diameter is mostly digitisation noise).
CONTINUATION_FLOOR = 0.6


#: daughters at least this share of the widest daughter's origin diameter all continue the parent (a true
#: bifurcation, e.g. LAD and a diagonal of the same size: 1-px measurement noise decides which looks wider).
BIFURCATION_RATIO = 0.85


#: the daughter best aligned with the parent's direction also continues it when the angle between them is below
#: about 35 degrees (cosine 0.82) and it is at least this share of the widest daughter's origin diameter (a lone
#: daughter beside stubs continues it when it is that well aligned).
STRAIGHT_COSINE = 0.82
STRAIGHT_MIN_SHARE = 0.5


def _cosine(b: Dict[str, Any]) -> Optional[float]:
    u, v = b.get("direction"), b.get("parent_direction")
    return None if u is None or v is None else float(np.dot(u, v))


def _mark_continuations(info: List[Dict[str, Any]]) -> None:
    """Set ``info[i]["continues_parent"]``: the widest branch leaving each junction continues the parent vessel,
    and so does every other one at least :data:`BIFURCATION_RATIO` as wide (a bifurcation into equals) and the one
    that goes straight on (within about 35 degrees of the parent's direction, :data:`STRAIGHT_COSINE`) when it is
    not much thinner (:data:`STRAIGHT_MIN_SHARE`): a vessel is traced through a junction the way an angiographer
    follows it.

    The clinical criterion applies to a vessel at *its* origin: the LAD after a diagonal's junction is still the
    LAD, so it is not judged again there (a lesion just after the junction would otherwise make the rest of a
    major vessel look minor). Origins closer than the parent radius + 2 px form one junction (skeletons split a
    junction into a cluster of nodes joined by links of a few pixels; those links are never the continuation).
    """
    for b in info:
        b["continues_parent"] = False
    cand = [b for b in info if not b["is_root_branch"]]
    groups: List[List[Dict[str, Any]]] = []
    for b in cand:
        o = np.asarray(b["origin_rc"], float)
        for g in groups:
            if any(np.hypot(*(o - np.asarray(x["origin_rc"], float))) <= x["parent_radius_px"] + 2.0 for x in g):
                g.append(b)
                break
        else:
            groups.append([b])
    for g in groups:
        real = [b for b in g if b["length_px"] > g[0]["parent_radius_px"] + 2.0]
        if len(real) == 1:  # the only way on (beside stubs): it continues the parent if it goes straight on
            cos = _cosine(real[0])
            real[0]["continues_parent"] = cos is not None and cos >= STRAIGHT_COSINE
        if len(real) >= 2:
            widest = max(b["origin_diameter_px"] for b in real)
            for b in real:  # a bifurcation into near-equal daughters: which one continues is not measurable
                if b["origin_diameter_px"] >= BIFURCATION_RATIO * widest:
                    b["continues_parent"] = True
            # the daughter that goes straight on continues the parent too (the LAD after a wider-looking diagonal)
            straight = [(c, b) for b in real if (c := _cosine(b)) is not None]
            if straight:
                cos, b = max(straight, key=lambda cb: cb[0])
                if cos >= STRAIGHT_COSINE and b["origin_diameter_px"] >= STRAIGHT_MIN_SHARE * widest:
                    b["continues_parent"] = True


#: a centreline pixel this close to the image border (px) is where a vessel enters or leaves the field of view
BORDER_PX = 3


def _at_border(p: Sequence[int], shape: Tuple[int, ...]) -> bool:
    """Whether pixel ``p`` lies within :data:`BORDER_PX` of the border of an image of ``shape``."""
    r, c = int(p[0]), int(p[1])
    return min(r, c, shape[0] - 1 - r, shape[1] - 1 - c) <= BORDER_PX


def _filter_tree(
    graph: VesselGraph, root: Pixel, thr_px: float, keep_root: bool = False, bias_px: float = 0.0
) -> Tuple[set, set, List[Dict[str, Any]]]:
    """Skeleton pixels kept when pruning one centreline tree at ``thr_px`` origin diameter.

    ``bias_px`` is added to every measured origin diameter (the mask's width bias, :func:`mask_width_bias_px`).
    Returns ``(kept, protected, info)``: ``protected`` are the first pixels of dropped branches that still lie
    in the parent's lumen.
    """
    pred, dist = _shortest_from(graph, root)
    info = branch_origin_diameters(graph, root, (pred, dist))
    for b in info:
        b["origin_diameter_px"] = max(0.0, b["origin_diameter_px"] + bias_px)
    _mark_continuations(info)
    keep_graph = graph.graph.copy()
    protected = set()
    h, w = graph.mask.shape
    wide_origins = [tuple(b["origin_rc"]) for b in info if b["origin_diameter_px"] >= thr_px]
    # arteries do not widen downstream: a narrow stretch on the way from the ostium to a vessel that is itself
    # >= the threshold at its origin is a lesion or a segmentation artefact on a major vessel, not a minor branch
    upstream_of_wide = set()
    for o in wide_origins:
        if o != root and o in dist:
            upstream_of_wide.update(_towards_root(pred, o))
    for b in info:
        at_border = _at_border(b["origin_rc"], (h, w))  # re-enters the field of view: origin unseen
        continues = b["continues_parent"] and b["origin_diameter_px"] >= CONTINUATION_FLOOR * thr_px
        on_the_way = tuple(int(v) for v in b["path"][-1]) in upstream_of_wide
        b["kept"] = bool(
            b["origin_diameter_px"] >= thr_px or (keep_root and b["is_root_branch"]) or at_border or continues
            or on_the_way
        )
        if not b["kept"]:
            path = b["path"]
            seg = _arc_length_px(path)
            for p, s in zip(path, seg):
                p = (int(p[0]), int(p[1]))
                if s <= b["parent_radius_px"] and not b["is_root_branch"]:
                    protected.add((tuple(b["origin_rc"]), p))  # still inside the parent's lumen
                elif keep_graph.has_node(p):
                    keep_graph.remove_node(p)
    reach = nx.node_connected_component(keep_graph, root) if keep_graph.has_node(root) else set()
    # lumen pixels at the origin of a dropped branch belong to the parent only if the parent is kept
    return set(reach), {p for origin, p in protected if origin in reach}, info


def filter_major_branches(
    mask: np.ndarray,
    calibration: Union[float, Any],
    min_origin_diameter_mm: float = 2.0,
    root_rc: Optional[Sequence[float]] = None,
    catheter_mask: Optional[np.ndarray] = None,
    return_info: bool = False,
    filename: Optional[str] = None,
    image: Optional[np.ndarray] = None,
    psf_sigma_px: Optional[float] = None,
    graph: Optional[VesselGraph] = None,
) -> Union[np.ndarray, Tuple[np.ndarray, Dict[str, Any]]]:
    """Drop branches whose origin diameter is below ``min_origin_diameter_mm`` (and their sub-trees).

    Args:
        mask: ``(H, W)`` artery mask or 0/1/2 label map (the catheter label 2, if present, locates the root).
        calibration: a :class:`~monai_angio.qca.calibration.Calibration` or mm/px as a float.
        min_origin_diameter_mm: clinical threshold (2 mm).
        root_rc: optional ``(row, col)`` of the ostium.
        catheter_mask: optional catheter mask to locate the root when ``mask`` is binary.
        return_info: also return per-branch origin diameters and decisions.
        filename: source file, for error messages.
        image: optional ``(H, W)`` angiogram (vessels dark): the mask's width bias against the image borders
            (:func:`mask_width_bias_px`) is added to every origin diameter, so that a segmentation traced a pixel
            inside the lumen edge does not drop a 2.2 mm branch as 1.9 mm.
        psf_sigma_px: the image's point-spread function (Gaussian sigma, px) when known (catheter calibration).
        graph: ``vessel_graph`` of the artery mask when the caller has already built it (else built here).

    Returns:
        The filtered boolean artery mask (pixels are assigned to their nearest centreline pixel), and,
        with ``return_info``, a dict ``{"root_rc", "mask_width_bias_mm", "branches": [{index, origin_rc,
        origin_diameter_mm, kept}]}`` (origin diameters include the bias).

    Raises:
        AngioInputError: the artery mask is empty.
    """
    arr = squeeze_leading(mask)
    m = as_binary_mask(arr, filename=filename)
    if catheter_mask is None and arr.dtype != bool and np.any(np.rint(arr) == 2):
        catheter_mask = np.rint(arr) == 2
    if not m.any():
        raise AngioInputError("the artery mask is empty (no label-1 pixels)", filename)
    mm_per_px = float(getattr(calibration, "mm_per_px", calibration))
    g = vessel_graph(m, filename=filename) if graph is None else graph
    root = find_root(g, catheter_mask, root_rc)
    bias_px = 0.0
    if image is not None:
        img = squeeze_leading(image, np.float64)
        if img.shape != m.shape:
            raise AngioInputError(f"image shape {img.shape} does not match mask shape {m.shape}", filename)
        bias_px = mask_width_bias_px(g, img, psf_sigma_px)
    thr_px = min_origin_diameter_mm / mm_per_px
    kept_sk = np.zeros_like(m)
    protected_sk = np.zeros_like(m)
    info: List[Dict[str, Any]] = []
    # every connected part of the centreline is a tree of its own (the root one first)
    for comp in sorted(nx.connected_components(g.graph), key=lambda c: root not in c):
        if root in comp:
            r = root
        else:
            # a part that touches the image border entered the field there (a vessel that left the image and
            # comes back, or one whose origin is outside): its origin is at the border, not at its widest end
            ends = [n for n in comp if g.graph.degree(n) <= 1] or sorted(comp)
            r = max(ends, key=lambda n: (_at_border(n, m.shape), g.distance[n], n))
        sub_graph = g.graph.subgraph(comp).copy()
        sub = VesselGraph(m, g.skeleton, g.distance, sub_graph, trace_branches(sub_graph))
        # the vessel engaged by the catheter (or chosen by the user) is major by definition at its ostium
        anchored = r == root and (catheter_mask is not None and np.any(catheter_mask) or root_rc is not None)
        kept, protected, sub_info = _filter_tree(sub, r, thr_px, anchored, bias_px)
        for p in kept:
            kept_sk[p] = True
        for p in protected:
            protected_sk[p] = True
        for b in sub_info:
            b["origin_diameter_mm"] = b["origin_diameter_px"] * mm_per_px
        info.extend(sub_info)
    # a pixel is kept when its nearest centreline pixel is kept, or when it lies within the lumen (radius
    # + 1 px) of a kept centreline pixel (the parent's lumen at the origin of a dropped branch)
    _, (ir, ic) = ndimage.distance_transform_edt(~g.skeleton, return_indices=True)
    out = m & (kept_sk | protected_sk)[ir, ic]
    if kept_sk.any():
        dk, (kr, kc) = ndimage.distance_transform_edt(~kept_sk, return_indices=True)
        out |= m & (dk <= g.distance[kr, kc] + 1.0)
    if return_info:
        return out, {
            "root_rc": root,
            "min_origin_diameter_mm": min_origin_diameter_mm,
            "mask_width_bias_mm": bias_px * mm_per_px,
            "branches": [
                {k: b[k] for k in ("index", "origin_rc", "origin_diameter_mm", "length_px", "kept")} for b in info
            ],
        }
    return out
