"""Tests of ``benchmarks/evaluate_demo.py``: seed lists and the statistics over demo summaries."""

from __future__ import annotations

import pytest

from tests.benchmarks import load_script

ed = load_script("evaluate_demo")


def test_parse_seeds() -> None:
    assert ed.parse_seeds("0-3") == [0, 1, 2, 3]
    assert ed.parse_seeds("3, 7,10-11") == [3, 7, 10, 11]


def _row(cal, guided, automatic, truth_ds=60.0, truth_mld=1.0, narrow=False):
    def qca(r):
        if r is None:
            return {"error": "points lie on disconnected vessels"}
        ds, mld, off = r
        return {"percent_diameter_stenosis": ds, "mld_mm": mld, "mm_from_true_worst_lesion": off}

    return {
        "calibration": {"error_percent": cal, "narrow_catheter": narrow,
                        "warnings": ["the catheter is only 3.1 px wide; ..."] if narrow else []},
        "qca": {"operator": qca(guided), "automatic": qca(automatic)},
        "truth_worst_lesion": {"percent_diameter": truth_ds, "mld_mm": truth_mld},
    }


def test_summary_counts_hits_within_5_mm_and_their_errors() -> None:
    rows = [
        _row(+1.0, (62.0, 0.9, 0.5), (62.0, 0.9, 0.5)),
        _row(-3.0, (56.0, 1.2, 2.0), (10.0, 3.0, 39.0), narrow=True),  # automatic measured elsewhere
        _row(+0.5, None, (58.0, 1.1, 4.9)),  # guided failed
    ]
    res = ed.summarize(rows)
    assert res["n"] == 3 and res["calibration_narrow_warned"] == 1
    assert res["calibration_abs_mean"] == pytest.approx(1.5) and res["calibration_abs_max"] == pytest.approx(3.0)
    g, a = res["guided"], res["automatic"]
    assert (g["measured"], g["hit"], a["measured"], a["hit"]) == (2, 2, 3, 2)
    assert g["ds_error_mean"] == pytest.approx(-1.0)  # (+2 - 4) / 2
    assert a["mld_error_mean"] == pytest.approx(0.0)  # (-0.1 + 0.1) / 2
    assert ed.summarize([])["guided"]["ds_error_mean"] is None
