"""``benchmarks/plot_training_loss.py``: progress lines parsed, running mean by hand, stages drawn in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks import load_script


@pytest.fixture(scope="module")
def plot():
    return load_script("plot_training_loss")


def _log(path: Path, losses) -> Path:
    lines = ["real training images: 30", "initialised from x"]
    lines += [f"epoch 1/2 iter {10 * (i + 1)}/{10 * len(losses)} loss {v:.4f} lr 1.00e-04 {i * 0.1:.1f} min"
              for i, v in enumerate(losses)]
    path.write_text("\n".join(lines + ["done in 1.0 min -> model.pt"]) + "\n")
    return path


def test_progress_lines_and_running_mean(plot, tmp_path):
    it, loss, lr = plot.read_progress(_log(tmp_path / "a.log", [0.4, 0.2, 0.3, 0.1]))
    np.testing.assert_array_equal(it, [10, 20, 30, 40])
    np.testing.assert_allclose(loss, [0.4, 0.2, 0.3, 0.1])
    assert (lr == 1e-4).all()
    np.testing.assert_allclose(plot.running_mean(loss, 2), [0.4, 0.3, 0.25, 0.2])
    with pytest.raises(ValueError, match="no 'epoch"):
        plot.read_progress(_log(tmp_path / "empty.log", []))


def test_png_written_for_stages_in_order(plot, tmp_path, capsys):
    a, b = _log(tmp_path / "a.log", [0.4, 0.3]), _log(tmp_path / "b.log", [0.2, 0.1, 0.1])
    out = tmp_path / "curve.png"
    assert plot.main([str(a), str(b), "--labels", "one", "two", "--window", "2", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = capsys.readouterr().out
    assert "one: 2 points, running mean 0.350 -> 0.350" in text and "two: 3 points" in text


def test_runs_in_order_or_side_by_side(plot, tmp_path):
    its = [np.array([10, 20]), np.array([10, 20, 30])]
    seq = plot.run_positions(its)
    np.testing.assert_array_equal(seq[1], [30, 40, 50])  # a stage continues after the previous one
    side = plot.run_positions(its, parallel=True)
    np.testing.assert_array_equal(side[0], [10, 20])
    np.testing.assert_array_equal(side[1], [10, 20, 30])  # fine-tunes from the same weights start together
    a, b = _log(tmp_path / "a.log", [0.4, 0.3]), _log(tmp_path / "b.log", [0.2, 0.1])
    out = tmp_path / "side.png"
    assert plot.main([str(a), str(b), "--parallel", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
