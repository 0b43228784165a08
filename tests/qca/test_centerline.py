"""Skeleton graph, branches, spur pruning and shortest paths."""

import numpy as np
import pytest

from monai_angio.errors import AngioInputError
from monai_angio.qca import prune_spurs, skeleton_to_graph, trace_branches, vessel_graph
from tests.qca.analytic import segment_tube


def _y_mask(size=96):
    m = segment_tube((size, size), (10, 48), (50, 48), 7)
    m |= segment_tube((size, size), (50, 48), (85, 15), 6)
    m |= segment_tube((size, size), (50, 48), (85, 82), 6)
    return m


def test_diagonal_staircase_has_no_false_junctions():
    sk = np.zeros((20, 20), bool)
    for i in range(2, 18):
        sk[i, i] = True
        if i % 3 == 0:
            sk[i, i + 1] = True  # staircase step
    sk[17, 17] = True
    g = skeleton_to_graph(sk)
    degrees = dict(g.degree())
    assert max(degrees.values()) == 2
    assert sum(1 for d in degrees.values() if d == 1) == 2


def test_y_shape_graph_and_paths():
    g = vessel_graph(_y_mask())
    assert len(g.endpoints) == 3
    assert len(g.junctions) >= 1
    assert len([b for b in g.branches if b.length_px > 5]) == 3
    # branches are ordered pixel chains: consecutive pixels are 8-neighbours
    for b in g.branches:
        steps = np.abs(np.diff(b.path, axis=0))
        assert steps.max() <= 1
    p = g.shortest_path((8, 47), (88, 12))  # snapped to the skeleton
    assert np.hypot(*(p[0] - (10, 48))) < 6 and np.hypot(*(p[-1] - (85, 15))) < 6
    # it goes through the junction region, not across the background
    assert np.all(g.mask[p[:, 0], p[:, 1]])
    length = np.sum(np.hypot(*np.diff(p, axis=0).T))
    assert 70 < length < 95  # 40 + 49 minus the rounded ends
    lp = g.longest_path()
    assert len(lp) > 60


def test_spur_pruning():
    sk = np.zeros((40, 60), bool)
    sk[20, 5:55] = True
    sk[17:20, 30] = True  # 3-px spur
    sk[5:20, 15] = True  # 15-px real branch
    pruned = prune_spurs(sk, radius=None, min_length_px=5)
    assert not pruned[17, 30] and not pruned[18, 30]
    assert pruned[6:20, 15].sum() >= 13
    assert pruned[20, 10:50].all()
    branches = trace_branches(skeleton_to_graph(pruned))
    assert len(branches) == 3


def test_spurs_from_boundary_noise_are_pruned():
    m = segment_tube((64, 96), (32, 5), (32, 90), 12, flat_ends=True)
    m[25, 40] = False  # notches on the boundary create skeleton spurs
    m[38, 60] = False
    m[26:38, 20] = True
    g = vessel_graph(m)
    assert len(g.endpoints) == 2 and not g.junctions


def test_empty_mask_and_disconnected_points():
    with pytest.raises(AngioInputError, match=r"m\.png: the vessel mask is empty"):
        vessel_graph(np.zeros((32, 32)), filename="m.png")
    m = np.zeros((40, 40), bool)
    m[5:8, 2:38] = True
    m[30:33, 2:38] = True
    g = vessel_graph(m)
    with pytest.raises(AngioInputError, match="disconnected"):
        g.shortest_path((6, 3), (31, 36))
    with pytest.raises(AngioInputError, match="2D"):
        vessel_graph(np.zeros((2, 3, 32, 32)))


def test_pin_hole_at_a_lesion_does_not_split_the_centreline():
    """A one-pixel hole in a tight lesion would make the skeleton a tiny loop (two junctions that the per-segment
    lesion search crops away with the lesion); holes up to ``max_hole_px`` are filled before skeletonising, large
    ones (the lumen between two vessels crossing in projection) stay."""
    from monai_angio.qca import fill_small_holes

    shape = (40, 96)
    m = segment_tube(shape, (20.3, -5), (20.3, 100), lambda u: np.where(np.abs(u - 52) < 6, 5.0, 14.0))
    m[20, 48] = False  # a pin hole inside the lesion
    assert len(vessel_graph(m, max_hole_px=0).junctions) >= 2
    g = vessel_graph(m)
    assert g.junctions == [] and len(g.endpoints) == 2
    assert not g.mask[20, 48]  # measurements still see the mask as given
    ring = np.zeros((60, 60), bool)
    ring[10:50, 10:50] = True
    ring[20:40, 20:40] = False  # a 400-px hole
    np.testing.assert_array_equal(fill_small_holes(ring, 8), ring)
    assert fill_small_holes(m, 8)[20, 48]
