"""Plot the loss curve of one or more training runs from the progress lines the real-data recipe prints.

The recipe (:func:`monai_angio.bundle.training.run_recipe`) prints ``epoch E/N iter I/T loss L lr X M min`` every
10 iterations, so a run's log file is its loss curve. Runs given in order are drawn one after the other (a stage
continuing the previous one; ``--parallel``: side by side from iteration 0, for runs from the same weights), each
as its points and a running mean::

    python benchmarks/plot_training_loss.py runs/r7.log runs/r8.log --labels "stage 7 (lr 2e-4)" "stage 8" \\
        --title "flagship stages 7-8" --out bundles/xca_artery_catheter_efficientunetpp/docs/training_loss_stages7-8.png
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["read_progress", "running_mean", "run_positions", "plot_loss", "main"]

_LINE = re.compile(r"epoch \d+/\d+ iter (\d+)/\d+ loss ([0-9.eE+-]+) lr ([0-9.eE+-]+)")


def read_progress(path: Path) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Iterations, losses and learning rates of the progress lines in a recipe log (other lines are skipped)."""
    rows = [m.groups() for m in map(_LINE.search, Path(path).read_text(errors="replace").splitlines()) if m]
    if not rows:
        raise ValueError(f"{path}: no 'epoch E/N iter I/T loss L lr X' progress lines")
    it, loss, lr = (np.asarray(c, dtype=float) for c in zip(*rows))
    return it, loss, lr


def running_mean(values: np.ndarray, n: int = 10) -> np.ndarray:
    """Mean of the last ``n`` values at each position (fewer at the start)."""
    c = np.cumsum(np.insert(np.asarray(values, dtype=float), 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - n, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def run_positions(iterations: Sequence[np.ndarray], parallel: bool = False) -> List[np.ndarray]:
    """x positions of each run's progress points: one after the other, or all from 0 with ``parallel``."""
    out, offset = [], 0.0
    for it in iterations:
        x = np.asarray(it, float) + offset
        out.append(x)
        offset = 0.0 if parallel or not x.size else float(x[-1])
    return out


def plot_loss(
    logs: Sequence[Path],
    labels: Sequence[str],
    out: Path,
    title: str = "",
    window: int = 10,
    parallel: bool = False,
) -> List[np.ndarray]:
    """Write ``out`` (PNG): each run's losses after the previous run's last iteration, with a running mean.

    With ``parallel`` every run starts at iteration 0 instead (runs from the same weights, e.g. the fine-tunes
    averaged into one model).

    Returns:
        the losses of each log, in order.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.4, 2.8), dpi=100)
    runs = [read_progress(log) for log in logs]
    losses: List[np.ndarray] = [loss for _, loss, _ in runs]
    xs = run_positions([it for it, _, _ in runs], parallel)
    colors = ["tab:orange", "tab:red", "tab:purple", "tab:green", "tab:blue"]
    for k, (x, loss, label) in enumerate(zip(xs, losses, labels)):
        c = colors[k % len(colors)]
        ax.scatter(x, loss, s=3, alpha=0.45, color=c, linewidths=0)
        ax.plot(x, running_mean(loss, window), color=c, lw=2, label=f"{label}, running mean of {window}")
    ax.set_xlabel("iteration (batch 8, 256 px crops)")
    ax.set_ylabel("PartialLabelLoss")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return losses


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("logs", nargs="+", type=Path, help="recipe logs, in training order")
    p.add_argument("--labels", nargs="*", default=None, help="one label per log (default: the file names)")
    p.add_argument("--title", default="")
    p.add_argument("--window", type=int, default=10, help="running-mean length in progress lines")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    p.add_argument("--parallel", action="store_true", help="runs from the same weights: all start at iteration 0")
    a = p.parse_args(argv)
    labels = a.labels or [log.stem for log in a.logs]
    if len(labels) != len(a.logs):
        p.error("--labels needs one label per log")
    try:
        losses = plot_loss(a.logs, labels, a.out, a.title, a.window, parallel=a.parallel)
    except (OSError, ValueError) as e:
        print(f"plot_training_loss: {e}", file=sys.stderr)
        return 1
    for loss, label in zip(losses, labels):
        n = min(len(loss), a.window)
        print(f"{label}: {len(loss)} points, running mean {loss[:n].mean():.3f} -> {loss[-n:].mean():.3f}")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
