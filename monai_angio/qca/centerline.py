"""Vessel centrelines as graphs: skeletonisation, branch decomposition, spur pruning and paths.

The skeleton of a binary vessel mask (``skimage.morphology.skeletonize``) is turned into a pixel graph
(:mod:`networkx`, 8-connectivity, edge weights 1 or sqrt(2)). Pixels whose degree is not 2 (end points
and junctions) delimit *branches*, each stored with its ordered pixel path. Short terminal branches
("spurs", produced by boundary noise) are pruned relative to the local vessel radius, and pin holes in the mask
are filled before skeletonising (a hole of a pixel or two at a tight lesion would otherwise split the centreline
into a tiny loop, whose two junctions hide the lesion from the per-segment search).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import networkx as nx
import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from monai_angio.errors import AngioInputError
from monai_angio.utils.arrays import squeeze_leading

__all__ = [
    "Branch",
    "VesselGraph",
    "as_binary_mask",
    "skeleton_to_graph",
    "trace_branches",
    "prune_spurs",
    "fill_small_holes",
    "vessel_graph",
]

Pixel = Tuple[int, int]

_NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def as_binary_mask(
    mask: np.ndarray, label: Optional[int] = None, filename: Optional[str] = None, what: str = "mask"
) -> np.ndarray:
    """Return a 2D boolean mask from a mask or label map.

    Args:
        mask: ``(H, W)`` or ``(1, H, W)`` array (numpy or torch); boolean, 0/1, or a 0/1/2 label map.
        label: if given, select ``mask == label``; otherwise ``mask > 0`` for 0/1 masks and ``mask == 1``
            (artery) for label maps that contain the catheter label 2.
        filename: file the mask came from, for error messages.
        what: name of the input in error messages.

    Raises:
        AngioInputError: not 2D after squeezing a leading singleton axis, or not finite.
    """
    arr = squeeze_leading(mask)
    if arr.ndim != 2:
        raise AngioInputError(f"{what} must be 2D (H, W) or (1, H, W), got shape {tuple(np.shape(mask))}", filename)
    if arr.dtype != bool and not np.all(np.isfinite(arr)):
        raise AngioInputError(f"{what} contains NaN or Inf", filename)
    if label is not None:
        return np.asarray(np.rint(arr) == label)
    if arr.dtype == bool:
        return arr.copy()
    if np.any(np.rint(arr) == 2):
        return np.asarray(np.rint(arr) == 1)
    return np.asarray(arr > 0)


def skeleton_to_graph(skeleton: np.ndarray) -> nx.Graph:
    """Pixel graph of a one-pixel-wide skeleton.

    Nodes are ``(row, col)`` tuples; 4-neighbours are joined with weight 1, diagonal neighbours with
    weight sqrt(2) unless they are already joined through a shared 4-neighbour (this avoids the
    spurious triangles that would otherwise make staircase pixels look like junctions).
    """
    sk = np.asarray(skeleton, dtype=bool)
    g = nx.Graph()
    rows, cols = np.nonzero(sk)
    h, w = sk.shape
    pts = list(zip(rows.tolist(), cols.tolist()))
    g.add_nodes_from(pts)
    for r, c in pts:
        for dr, dc in ((0, 1), (1, 0)):
            rr, cc = r + dr, c + dc
            if rr < h and cc < w and sk[rr, cc]:
                g.add_edge((r, c), (rr, cc), weight=1.0)
        for dr, dc in ((1, 1), (1, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and sk[rr, cc]:
                if not (sk[r + dr, c] or sk[r, c + dc]):
                    g.add_edge((r, c), (rr, cc), weight=math.sqrt(2.0))
    return g


@dataclass
class Branch:
    """A skeleton branch between two key pixels (end points or junctions).

    Attributes:
        index: position in :attr:`VesselGraph.branches`.
        path: ``(N, 2)`` int array of ``(row, col)`` pixels, ordered from ``start`` to ``end``
            (both included).
        start: first pixel.
        end: last pixel.
        length_px: polyline length in pixels.
    """

    index: int
    path: np.ndarray
    start: Pixel
    end: Pixel
    length_px: float


def _path_length(path: np.ndarray) -> float:
    if len(path) < 2:
        return 0.0
    return float(np.sum(np.hypot(*np.diff(np.asarray(path, float), axis=0).T)))


def trace_branches(graph: nx.Graph) -> List[Branch]:
    """Split a pixel graph into branches between key pixels (degree != 2).

    Closed loops without any key pixel become one branch starting and ending at the same pixel.
    """
    key = {n for n, d in graph.degree() if d != 2}
    visited_edges = set()
    branches: List[Branch] = []

    def _walk(start: Pixel, nxt: Pixel) -> List[Pixel]:
        path = [start, nxt]
        visited_edges.add(frozenset((start, nxt)))
        prev, cur = start, nxt
        while cur not in key:
            cand = [n for n in graph.neighbors(cur) if n != prev and frozenset((cur, n)) not in visited_edges]
            if not cand:
                break
            prev, cur = cur, cand[0]
            visited_edges.add(frozenset((prev, cur)))
            path.append(cur)
            if cur == start:
                break
        return path

    for k in sorted(key):
        if graph.degree(k) == 0:
            p = np.array([k], dtype=int)
            branches.append(Branch(len(branches), p, k, k, 0.0))
            continue
        for n in sorted(graph.neighbors(k)):
            if frozenset((k, n)) in visited_edges:
                continue
            p = np.array(_walk(k, n), dtype=int)
            branches.append(Branch(len(branches), p, tuple(p[0]), tuple(p[-1]), _path_length(p)))
    # loops made only of degree-2 pixels
    for comp in nx.connected_components(graph):
        if comp & key:
            continue
        start = min(comp)
        n = min(graph.neighbors(start))
        if frozenset((start, n)) in visited_edges:
            continue
        p = np.array(_walk(start, n), dtype=int)
        branches.append(Branch(len(branches), p, tuple(p[0]), tuple(p[-1]), _path_length(p)))
    return branches


def prune_spurs(
    skeleton: np.ndarray,
    radius: Optional[np.ndarray] = None,
    min_length_px: float = 3.0,
    radius_factor: float = 1.5,
    max_iter: int = 10,
) -> np.ndarray:
    """Remove short terminal branches (spurs) from a skeleton.

    A terminal branch (one end point, one junction) is a spur when its length is below
    ``min_length_px + radius_factor * r`` where ``r`` is the vessel radius (distance transform) at its
    junction, unless its tip is within one local radius (+2 px) of the image border (a vessel cut by the
    field of view). Pruning is repeated until nothing changes, because removing one spur can turn its
    junction into a plain pixel and expose another.

    Args:
        skeleton: boolean skeleton.
        radius: distance transform of the vessel mask (same shape), or None for a purely length-based rule.
        min_length_px: length threshold without a radius map, added to the radius term otherwise.
        radius_factor: multiple of the junction radius added to the threshold.
        max_iter: maximum number of pruning passes.

    Returns:
        The pruned skeleton (a new array).
    """
    sk = np.asarray(skeleton, dtype=bool).copy()
    h, w = sk.shape
    for _ in range(max_iter):
        g = skeleton_to_graph(sk)
        changed = False
        for br in trace_branches(g):
            ds, de = g.degree(br.start), g.degree(br.end)
            if {ds, de} & {1} and max(ds, de) >= 3:
                junction = br.start if ds >= 3 else br.end
                tip = br.end if junction == br.start else br.start
                r = float(radius[junction]) if radius is not None else 0.0
                r_tip = float(radius[tip]) if radius is not None else 0.0
                if min(tip[0], tip[1], h - 1 - tip[0], w - 1 - tip[1]) <= r_tip + 2.0:
                    continue  # a vessel leaving the image, not a spur
                if br.length_px < min_length_px + radius_factor * r:
                    pix = [tuple(p) for p in br.path if tuple(p) != junction]
                    for p in pix:
                        sk[p] = False
                    changed = True
        if not changed:
            break
        sk = skeletonize(sk)
    return sk


@dataclass
class VesselGraph:
    """Centreline graph of a vessel mask.

    Attributes:
        mask: the boolean vessel mask the graph was built from.
        skeleton: the pruned skeleton.
        distance: Euclidean distance transform of ``mask`` (vessel radius + ~0.5 px at the centreline).
        graph: pixel graph (nodes ``(row, col)``, edge attribute ``weight`` in px).
        branches: the branches between key pixels.
    """

    mask: np.ndarray
    skeleton: np.ndarray
    distance: np.ndarray
    graph: nx.Graph
    branches: List[Branch] = field(default_factory=list)

    @property
    def endpoints(self) -> List[Pixel]:
        """Skeleton pixels with exactly one neighbour."""
        return sorted(n for n, d in self.graph.degree() if d == 1)

    @property
    def junctions(self) -> List[Pixel]:
        """Skeleton pixels with three or more neighbours."""
        return sorted(n for n, d in self.graph.degree() if d >= 3)

    def snap(self, point_rc: Sequence[float], nodes: Optional[Sequence[Pixel]] = None) -> Pixel:
        """Nearest skeleton pixel to a ``(row, col)`` point (e.g. a user click), optionally among ``nodes``."""
        if self.graph.number_of_nodes() == 0:
            raise AngioInputError("the vessel skeleton is empty")
        arr = np.array(list(self.graph.nodes) if nodes is None else list(nodes), dtype=float)
        d2 = np.sum((arr - np.asarray(point_rc, float)[None]) ** 2, axis=1)
        r, c = arr[int(np.argmin(d2))]
        return int(r), int(c)

    def shortest_path(self, start_rc: Sequence[float], end_rc: Sequence[float]) -> np.ndarray:
        """Shortest centreline path between two points, each snapped to the skeleton.

        Both points are snapped into the same connected part of the skeleton: among the parts with at least
        5 % of the largest part's pixels (specks of segmentation noise are ignored), the one that minimises the
        sum of the two snapping distances.

        Returns:
            ``(N, 2)`` int array of ``(row, col)`` pixels from start to end.

        Raises:
            AngioInputError: the best part is much farther from one point than the nearest skeleton pixel, i.e.
                the two points lie on disconnected vessels.
        """
        if self.graph.number_of_nodes() == 0:
            raise AngioInputError("the vessel skeleton is empty")
        comps = sorted(nx.connected_components(self.graph), key=len, reverse=True)
        big = [c for c in comps if len(c) >= max(2, 0.05 * len(comps[0]))] or comps[:1]
        pa, pb = np.asarray(start_rc, float), np.asarray(end_rc, float)
        best = None
        for comp in big:
            a, b = self.snap(pa, comp), self.snap(pb, comp)
            cost = float(np.hypot(*(pa - a)) + np.hypot(*(pb - b)))
            if best is None or cost < best[0]:
                best = (cost, a, b)
        _, a, b = best
        a0, b0 = self.snap(pa), self.snap(pb)
        tol = 2.0 * float(np.max(self.distance)) + 3.0 if self.distance.size else 3.0
        if np.hypot(*(pa - a)) > np.hypot(*(pa - a0)) + tol or np.hypot(*(pb - b)) > np.hypot(*(pb - b0)) + tol:
            raise AngioInputError(
                f"points {tuple(float(v) for v in start_rc)} and {tuple(float(v) for v in end_rc)} lie on "
                "disconnected vessels (no centreline path)"
            )
        p = nx.shortest_path(self.graph, a, b, weight="weight")
        return np.array(p, dtype=int)

    def farthest_from(self, source: Pixel) -> Tuple[Pixel, Dict[Pixel, float]]:
        """The skeleton pixel farthest (along the centreline) from ``source``, and all distances."""
        dist = nx.single_source_dijkstra_path_length(self.graph, source, weight="weight")
        far = max(dist, key=lambda n: (dist[n], n))
        return far, dist

    def longest_path(self) -> np.ndarray:
        """Approximately the longest centreline path in the largest connected part (double sweep)."""
        if self.graph.number_of_nodes() == 0:
            raise AngioInputError("the vessel skeleton is empty")
        comp = max(nx.connected_components(self.graph), key=len)
        sub = self.graph.subgraph(comp)
        start = min(n for n, d in sub.degree() if d <= 1) if any(d <= 1 for _, d in sub.degree()) else min(comp)
        a = max(nx.single_source_dijkstra_path_length(sub, start, weight="weight").items(), key=lambda kv: kv[1])[0]
        dist, paths = nx.single_source_dijkstra(sub, a, weight="weight")
        b = max(dist, key=lambda n: (dist[n], n))
        return np.array(paths[b], dtype=int)


def fill_small_holes(mask: np.ndarray, max_area_px: int) -> np.ndarray:
    """``mask`` with its holes of at most ``max_area_px`` pixels filled (8-connected mask, 4-connected holes).

    Larger holes stay: the lumen between two vessels that cross or rejoin in projection is a real hole.
    """
    m = np.asarray(mask, bool)
    if max_area_px <= 0:
        return m.copy()
    holes = ndimage.binary_fill_holes(m) & ~m
    lab, n = ndimage.label(holes)
    if n == 0:
        return m.copy()
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    small = sizes <= max_area_px
    small[0] = False
    return m | small[lab]


def vessel_graph(
    mask: np.ndarray,
    prune: bool = True,
    min_spur_px: float = 3.0,
    spur_radius_factor: float = 1.5,
    filename: Optional[str] = None,
    label: Optional[int] = None,
    max_hole_px: int = 8,
) -> VesselGraph:
    """Build the centreline graph of a vessel mask.

    Args:
        mask: ``(H, W)`` binary mask or label map (label maps select the artery label 1 unless
            ``label`` is given).
        prune: remove spurs (see :func:`prune_spurs`).
        min_spur_px: spur length threshold in pixels (added to ``spur_radius_factor`` x junction radius).
        spur_radius_factor: multiple of the junction radius below which terminal branches are spurs.
        filename: source file of the mask, for error messages.
        label: explicit label value to select.
        max_hole_px: holes in the mask up to this area are filled before skeletonising (:func:`fill_small_holes`);
            the mask and distance map kept for measuring are the mask as given.

    Raises:
        AngioInputError: the mask is empty.
    """
    m = as_binary_mask(mask, label=label, filename=filename)
    if not m.any():
        raise AngioInputError("the vessel mask is empty (no artery pixels)", filename)
    dist = ndimage.distance_transform_edt(m)
    sk = skeletonize(fill_small_holes(m, max_hole_px))
    if prune:
        sk = prune_spurs(sk, dist, min_length_px=min_spur_px, radius_factor=spur_radius_factor)
    g = skeleton_to_graph(sk)
    return VesselGraph(mask=m, skeleton=sk, distance=dist, graph=g, branches=trace_branches(g))
