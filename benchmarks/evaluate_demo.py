"""``monai-angio demo`` over many seeds: how often the predicted catheter calibrates and the QCA finds the lesion.

Usage::

    python benchmarks/evaluate_demo.py --seeds 0-29 [--size 512] [--out /tmp/demo_seeds] [--json demo.json]

Runs :func:`monai_angio.apps.demo.run_demo` (the shipped flagship, the predicted catheter's calibration, QCA on the
peak-contrast frame of the predicted mask) once per seed and prints, over the seeds:

- the calibration error (mean abs, max) and how many calibrations warned about a narrow catheter;
- *guided* QCA (user points on the true centreline 10 mm either side of the phantom's worst lesion): how many
  succeed (the rest: the mask path between the points could not be found), how many measure within 5 mm of the true
  lesion centre, their %DS and MLD errors;
- *automatic* QCA: how many report an MLD within 5 mm of the worst lesion (``mm_from_true_worst_lesion``), and the
  %DS and MLD errors of those.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from monai_angio.apps.demo import LESION_MATCH_MM, run_demo

__all__ = ["parse_seeds", "summarize", "main"]


def parse_seeds(text: str) -> List[int]:
    """``"0-29"`` or ``"3,7,11"`` (or a mix) -> the seeds."""
    seeds: List[int] = []
    for part in (p.strip() for p in text.split(",")):
        if "-" in part:
            a, b = part.split("-", 1)
            seeds += list(range(int(a), int(b) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def _errors(rows: List[Dict[str, Any]], mode: str) -> Dict[str, Any]:
    done = [r for r in rows if "error" not in r["qca"].get(mode, {"error": "not run"})]
    hit = [r for r in done if r["qca"][mode].get("mm_from_true_worst_lesion", np.inf) <= LESION_MATCH_MM]
    ds = np.array([r["qca"][mode]["percent_diameter_stenosis"] - r["truth_worst_lesion"]["percent_diameter"]
                   for r in hit])
    mld = np.array([r["qca"][mode]["mld_mm"] - r["truth_worst_lesion"]["mld_mm"] for r in hit])
    return {
        "measured": len(done),
        "hit": len(hit),
        "ds_error_mean": float(ds.mean()) if ds.size else None,
        "ds_error_sd": float(ds.std()) if ds.size else None,
        "mld_error_mean": float(mld.mean()) if mld.size else None,
        "mld_error_sd": float(mld.std()) if mld.size else None,
        "mld_error_median_abs": float(np.median(np.abs(mld))) if mld.size else None,
    }


def summarize(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Calibration and QCA statistics over demo summaries (each a :func:`run_demo` result with a worst lesion)."""
    rows = [r for r in rows if r.get("truth_worst_lesion")]
    cal = np.array([r["calibration"]["error_percent"] for r in rows])
    narrow = sum(bool(r["calibration"].get("narrow_catheter")) for r in rows)
    return {
        "n": len(rows),
        "calibration_abs_mean": float(np.abs(cal).mean()) if cal.size else None,
        "calibration_abs_max": float(np.abs(cal).max()) if cal.size else None,
        "calibration_narrow_warned": int(narrow),
        "guided": _errors(rows, "operator"),
        "automatic": _errors(rows, "automatic"),
    }


def _fmt(v: Optional[float], spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", default="0-29")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--frames", type=int, default=12)
    p.add_argument("--out", default="", help="keep every demo's outputs here (default: a temporary folder)")
    p.add_argument("--json", default="", help="write the per-seed summaries and the statistics here")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.out or tmp)
        for seed in parse_seeds(args.seeds):
            s = run_demo(str(root / f"seed{seed}"), seed=seed, frames=args.frames, size=args.size, overwrite=True,
                         progress=False)
            s["seed"] = seed
            rows.append(s)
            parts = [f"seed {seed}: calibration {s['calibration']['error_percent']:+.1f} %"]
            for mode, a in s["qca"].items():
                parts.append(f"{mode} " + ("failed" if "error" in a else
                             f"{a['percent_diameter_stenosis']:.0f} %DS, {a['mm_from_true_worst_lesion']:.0f} mm off"))
            t = s.get("truth_worst_lesion") or {}
            print("; ".join(parts) + f" (truth {_fmt(t.get('percent_diameter'), '.0f')} %DS)", flush=True)
    res = summarize(rows)
    g, a = res["guided"], res["automatic"]
    print(f"\n{res['n']} seeds at {args.size} px: calibration mean abs {_fmt(res['calibration_abs_mean'], '.2f')} %, "
          f"max {_fmt(res['calibration_abs_max'], '.1f')} %, {res['calibration_narrow_warned']} warned (narrow catheter)")
    for name, r in (("guided", g), ("automatic", a)):
        print(f"{name}: measured {r['measured']} / {res['n']}, at the worst lesion (within {LESION_MATCH_MM:g} mm) "
              f"{r['hit']} / {res['n']}; there %DS error {_fmt(r['ds_error_mean'], '+.1f')} +- "
              f"{_fmt(r['ds_error_sd'], '.1f')} points, MLD error {_fmt(r['mld_error_mean'], '+.3f')} +- "
              f"{_fmt(r['mld_error_sd'], '.3f')} mm (median abs {_fmt(r['mld_error_median_abs'], '.3f')})")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": res, "rows": rows}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
