"""``monai-angio synth``: write a synthetic angiography data set with ground truth and datalists.

Layout under ``--out`` (``case_000`` ... ):

- ``images/case_000.png`` (16-bit), ``labels/case_000.png`` (0/1/2), ``labels_vessel/case_000.png`` (0/1, every drawn
  artery, catheter 0), ``ground_truth/case_000.json``; for cines these are the key (peak contrast) frame.
- cines (``--frames`` > 1): ``cines/case_000.nii.gz`` (float32), ``cine_labels/case_000.nii.gz`` and
  ``cine_labels_vessel/case_000.nii.gz`` (uint8), on disk ``(H, W, T)``.
- ``--dicom``: ``dicom/case_000.dcm`` (multi-frame XA with calibration tags).
- ``datalist.json``: still entries (PNG); ``datalist_cine.json`` (cines only): one entry per frame whose contrast
  concentration is >= ``--min-concentration``, with ``"frame": k``.
- ``--overview``: ``overview/case_000.png`` figures (image + label overlay).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from monai_angio.errors import AngioInputError
from monai_angio.utils.progress import track

__all__ = ["register", "run", "main", "case_seed", "planned_files"]


def case_seed(seed: int, index: int) -> int:
    """Independent, reproducible seed of case ``index`` of a data set generated with ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def _stenosis_range(text: str) -> Any:
    parts = str(text).split("-")
    try:
        vals = [int(p) for p in parts]
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected N or MIN-MAX, got {text!r}") from e
    if len(vals) == 1:
        return vals[0]
    if len(vals) == 2 and 0 <= vals[0] <= vals[1]:
        return (vals[0], vals[1])
    raise argparse.ArgumentTypeError(f"expected N or MIN-MAX, got {text!r}")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``synth`` sub-command to an ``argparse`` sub-parsers object."""
    p = subparsers.add_parser(
        "synth",
        help="write synthetic angiograms (PNG / NIfTI / DICOM XA) with ground truth and a datalist",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--n", type=int, default=10, help="number of cases (default 10)")
    p.add_argument("--frames", type=int, default=1, help="frames per case; > 1 writes NIfTI cines (default 1)")
    p.add_argument("--size", type=int, default=512, help="image size in pixels (default 512)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="data set seed (default 0)")
    p.add_argument("--tree", choices=("lca", "rca", "random"), default="random", help="coronary tree type")
    p.add_argument("--stenoses", type=_stenosis_range, default=(0, 2), help="lesions per case, N or MIN-MAX")
    p.add_argument("--frame-time-ms", type=float, default=66.7, help="time between cine frames (ms)")
    p.add_argument("--dose", type=float, default=3000.0, help="photons per pixel (quantum noise); 0 = no noise")
    p.add_argument("--dicom", action="store_true", help="also write multi-frame DICOM XA files")
    p.add_argument("--val-fraction", type=float, default=0.2, help="fraction of cases for validation")
    p.add_argument("--test-fraction", type=float, default=0.1, help="fraction of cases for test")
    p.add_argument("--min-concentration", type=float, default=0.3,
                   help="cine frames below this contrast concentration are left out of datalist_cine.json")
    p.add_argument("--overview", action="store_true", help="also write overview figures")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.set_defaults(func=run)
    return p


def planned_files(out: Path, n: int, frames: int, dicom: bool, overview: bool = False) -> List[Path]:
    """Every file ``synth`` will write for these settings."""
    files = [out / "datalist.json"]
    if frames > 1:
        files.append(out / "datalist_cine.json")
    for i in range(n):
        c = f"case_{i:03d}"
        files += [out / "images" / f"{c}.png", out / "labels" / f"{c}.png", out / "labels_vessel" / f"{c}.png",
                  out / "ground_truth" / f"{c}.json"]
        if frames > 1:
            files += [out / "cines" / f"{c}.nii.gz", out / "cine_labels" / f"{c}.nii.gz",
                      out / "cine_labels_vessel" / f"{c}.nii.gz"]
        if dicom:
            files.append(out / "dicom" / f"{c}.dcm")
        if overview:
            files.append(out / "overview" / f"{c}.png")
    return files


def _stenosis_rc(stenoses: Sequence[Any]) -> Optional[List[float]]:
    if not stenoses:
        return None
    worst = max(stenoses, key=lambda s: s.percent_diameter)
    return [round(float(v), 3) for v in worst.center_rc]


def run(args: argparse.Namespace) -> int:
    """Generate the data set described by the parsed arguments; returns the exit status."""
    from monai_angio.data.datalist import make_datalist, split_cases
    from monai_angio.data.synthetic import PhantomConfig, generate_cine, generate_phantom, render_overview
    from monai_angio.data.writers import write_ground_truth, write_nifti_cine, write_png_image, write_png_label

    out = Path(args.out)
    n, T = int(args.n), int(args.frames)
    if n < 1 or T < 1 or args.size < 16:
        print(f"monai-angio synth: --n and --frames must be >= 1 and --size >= 16 (got {n}, {T}, {args.size})",
              file=sys.stderr)
        return 2
    overwrite = bool(args.overwrite)
    if not overwrite:
        existing = [p for p in planned_files(out, n, T, args.dicom, args.overview) if p.exists()]
        if existing:
            print(f"monai-angio synth: {existing[0]} exists (and {len(existing) - 1} more); refusing to overwrite "
                  "(use --overwrite)", file=sys.stderr)
            return 1
    cfg = PhantomConfig(size=int(args.size), tree=args.tree, n_stenoses=args.stenoses,
                        frame_time_ms=float(args.frame_time_ms), dose=float(args.dose) if args.dose > 0 else None,
                        frames=T)
    stills: List[Dict[str, Any]] = []
    cine_entries: List[Dict[str, Any]] = []
    try:
        for i in track(range(n), desc="synth", unit="case", label=lambda i: f"case_{i:03d}"):
            c = f"case_{i:03d}"
            seed = case_seed(args.seed, i)
            cine = generate_cine(seed, cfg, T) if T > 1 else None
            ph = cine.frames[cine.key_frame] if cine is not None else generate_phantom(seed, cfg)
            files = {
                "image": f"images/{c}.png",
                "label": f"labels/{c}.png",
                "label_vessel": f"labels_vessel/{c}.png",
                "ground_truth": f"ground_truth/{c}.json",
            }
            write_png_image(out / files["image"], ph.image, 16, overwrite)
            write_png_label(out / files["label"], ph.label, overwrite)
            write_png_label(out / files["label_vessel"], ph.label_vessel, overwrite)
            common = {"case": c, "seed": seed, "spacing_mm": round(ph.spacing_mm, 6),
                      "catheter_french": int(ph.catheter_french)}
            extra = {"files": dict(files)}
            if cine is not None:
                cf = {"image": f"cines/{c}.nii.gz", "label": f"cine_labels/{c}.nii.gz",
                      "label_vessel": f"cine_labels_vessel/{c}.nii.gz"}
                write_nifti_cine(out / cf["image"], cine.images, ph.spacing_mm, cine.frame_time_ms, overwrite=overwrite)
                write_nifti_cine(out / cf["label"], cine.labels, ph.spacing_mm, cine.frame_time_ms, overwrite=overwrite)
                write_nifti_cine(out / cf["label_vessel"], np.stack([f.label_vessel for f in cine.frames]),
                                 ph.spacing_mm, cine.frame_time_ms, overwrite=overwrite)
                extra["files"].update({"cine_" + k: v for k, v in cf.items()})
                for k, f in enumerate(cine.frames):
                    if cine.concentration[k] >= args.min_concentration:
                        cine_entries.append(dict(cf, frame=k, ground_truth=files["ground_truth"],
                                                 stenosis_rc=_stenosis_rc(f.stenoses),
                                                 concentration=round(float(cine.concentration[k]), 4), **common))
            if args.dicom:
                from monai_angio.data.dicom import write_dicom_xa

                files_dcm = f"dicom/{c}.dcm"
                write_dicom_xa(out / files_dcm, cine if cine is not None else ph, overwrite=overwrite)
                extra["files"]["dicom"] = files_dcm
            write_ground_truth(out / files["ground_truth"], cine if cine is not None else ph, overwrite, **extra)
            stills.append(dict(files, stenosis_rc=_stenosis_rc(ph.stenoses), **common))
            if args.overview:
                from monai_angio.utils import atomic_path

                fig = render_overview(ph, title=c)
                with atomic_path(out / "overview" / f"{c}.png", overwrite=overwrite) as tmp:
                    fig.savefig(tmp, format="png")
        split = split_cases([e["case"] for e in stills], args.val_fraction, args.test_fraction, args.seed)
        make_datalist(stills, out / "datalist.json", overwrite=overwrite, split=split)
        if T > 1:
            make_datalist(cine_entries, out / "datalist_cine.json", overwrite=overwrite, split=split)
    except (FileExistsError, AngioInputError) as e:
        print(f"monai-angio synth: {e}", file=sys.stderr)
        return 1
    print(f"monai-angio synth: wrote {n} case(s) to {out}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``synth`` alone (without the other sub-commands), e.g. ``python -m monai_angio.apps.synth --n 4``."""
    parser = argparse.ArgumentParser(prog="monai-angio")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["synth", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
