"""Tests of ``benchmarks/evaluate_fov.py``: the detection scores by hand, and a tiny run over real phantoms."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks import load_script

ev = load_script("evaluate_fov")


def test_scores_by_hand() -> None:
    """A 100 x 100 field whose true shadow is the left 20 columns: a detection that keeps 5 shadow columns misses 25 %
    of it and leaves 5 of a 20 px label outside; one that cuts 10 columns into the field cuts the true field beyond
    the 2 + 3 px margin (columns 25-99; the image border does not erode it) by 5 of its 75 columns."""
    truth = np.ones((100, 100), bool)
    truth[:, :20] = False
    labels = np.zeros((100, 100), np.uint8)
    labels[50, 10:30] = 1  # 10 px in the shadow, 10 in the field
    fov = truth.copy()
    fov[:, 15:20] = True
    s = ev.score_detection(fov, truth, labels)
    assert s["missed"] == pytest.approx(0.25)
    assert s["overcut"] == 0.0
    assert s["labels_lost"] == pytest.approx(0.25)  # columns 10-14 of the label's 10-29
    cut = truth.copy()
    cut[:, 20:30] = False
    s = ev.score_detection(cut, truth, labels)
    assert s["missed"] == 0.0
    assert s["overcut"] == pytest.approx(5 / 75)
    assert s["labels_lost"] == pytest.approx(1.0)


def test_both_methods_scored_on_phantoms_with_a_shadow() -> None:
    summary = ev.evaluate_fov(n=4, seed=700_005, sizes=(256,), log=lambda *a, **k: None)
    assert 1 <= summary["n_with_shadow"] <= 4 and len(summary["rows"]) == summary["n_with_shadow"]
    for method in ("basic", "robust"):
        for key in ("missed", "overcut", "labels_lost"):
            stats = summary[method][key]
            assert 0.0 <= stats["median"] <= stats["max"] <= 1.0
    # the first phantom (seed 700005): the basic method finds none of its shadow, the robust one all of it
    first = summary["rows"][0]
    assert first["seed"] == 700_005
    assert first["basic"]["missed"] > 0.9 and first["robust"]["missed"] < 0.05
