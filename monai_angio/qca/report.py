"""QCA report files: JSON with every number and profile, and a PNG figure.

The figure shows the angiogram with the artery mask, the analysed centreline, its sub-pixel edges,
the lesion (obstruction boundaries) and the MLD, next to the diameter profile with the interpolated
reference and the MLD marked. Both files are written atomically
(:func:`monai_angio.utils.atomic_path`) and are never overwritten unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from monai_angio.utils import atomic_path, atomic_write
from monai_angio.utils.arrays import squeeze_leading
from monai_angio.utils.scale_bar import add_scale_bar

from .centerline import as_binary_mask
from .stenosis import StenosisReport

__all__ = ["report_paths", "write_report", "plot_report"]


def report_paths(out_dir: Union[str, os.PathLike], stem: str = "qca") -> Dict[str, Path]:
    """Paths of the report files: ``{out_dir}/{stem}_report.json`` and ``{stem}_report.png``."""
    out = Path(out_dir)
    return {"json": out / f"{stem}_report.json", "png": out / f"{stem}_report.png"}


def _source_note(report: StenosisReport, short: bool = False) -> str:
    """The calibration source as the picture names it (an approximate scale says so, and in the title why)."""
    if report.calibration_source != "artery-width":
        return report.calibration_source
    mm = report.calibration.details.get("widest_artery_mm_assumed")
    return "approximate" if short or not mm else f"APPROXIMATE: widest artery taken as {mm:g} mm"


def plot_report(report: StenosisReport, image: Optional[np.ndarray], mask: Optional[np.ndarray]):
    """Build the report figure (matplotlib ``Figure``, Agg canvas; no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    ax0, ax1 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    prof = report.profile
    shape = None
    if image is not None:
        img = squeeze_leading(image, float)
        if img.ndim == 3:
            img = img[0]
        ax0.imshow(img, cmap="gray", interpolation="nearest")
        shape = img.shape
    if mask is not None:
        arr = squeeze_leading(mask)
        art = as_binary_mask(arr)
        rgba = np.zeros(art.shape + (4,))
        rgba[art] = (1.0, 0.8, 0.0, 0.25)
        if arr.dtype != bool:
            rgba[np.rint(arr) == 2] = (0.0, 0.6, 1.0, 0.35)
        if shape is None:
            ax0.imshow(np.zeros(art.shape), cmap="gray", vmin=0, vmax=1)
        ax0.imshow(rgba, interpolation="nearest")
    p = prof.path_rc
    ax0.plot(p[:, 1], p[:, 0], "-", color="lime", lw=0.8, label="centreline")
    from_image = prof.edge_from_image
    edge_label = "edges" if from_image is None else "edges (image)"
    ax0.plot(prof.edge_left_rc[:, 1], prof.edge_left_rc[:, 0], "-", color="cyan", lw=0.6)
    ax0.plot(prof.edge_right_rc[:, 1], prof.edge_right_rc[:, 0], "-", color="cyan", lw=0.6, label=edge_label)
    if from_image is not None and not np.all(from_image):  # edge method: where it fell back to the mask boundary
        fb = ~np.asarray(from_image, bool)
        for e, lab in ((prof.edge_left_rc, None), (prof.edge_right_rc, "edges (mask fallback)")):
            ax0.plot(e[fb, 1], e[fb, 0], ".", color="magenta", ms=2.5, label=lab)
    s = prof.arc_length_mm
    les = (s >= report.lesion_start_mm) & (s <= report.lesion_end_mm)
    if les.any():
        ax0.plot(p[les, 1], p[les, 0], "-", color="red", lw=2.0, label="lesion")
    ax0.plot([report.mld_rc[1]], [report.mld_rc[0]], "o", mfc="none", mec="red", ms=10, label="MLD")
    if shape is None and mask is not None:
        shape = art.shape
    if shape is not None and report.mm_per_px > 0:
        add_scale_bar(ax0, report.mm_per_px, shape, note=f"({_source_note(report, short=True)})")
    ax0.set_axis_off()
    ax0.legend(loc="lower right", fontsize=7, framealpha=0.6)
    title = os.path.basename(report.filename) if report.filename else "QCA"
    ax0.set_title(title, fontsize=9)

    ax1.plot(s, prof.raw_diameter_px * report.mm_per_px, "-", color="0.7", lw=0.8, label="raw diameter")
    if prof.mask_diameter_px is not None:
        ax1.plot(s, prof.mask_diameter_px * report.mm_per_px, ":", color="tab:orange", lw=0.8, label="mask diameter")
    ax1.plot(s, prof.diameter_mm, "-", color="k", lw=1.4, label="diameter" + (" (image edges)" if prof.method == "edge" else ""))
    ax1.plot(s, report.reference_mm, "--", color="tab:blue", lw=1.2, label="interpolated reference")
    if report.lesion_end_mm > report.lesion_start_mm:
        ax1.axvspan(report.lesion_start_mm, report.lesion_end_mm, color="red", alpha=0.12, label="lesion")
    ax1.plot([report.mld_position_mm], [report.mld_mm], "v", color="red", ms=8, label=f"MLD {report.mld_mm:.2f} mm")
    ax1.set_xlabel("distance along centreline (mm)")
    ax1.set_ylabel("diameter (mm)")
    ax1.set_ylim(bottom=0)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7, loc="lower left")
    ax1.set_title(
        f"MLD {report.mld_mm:.2f} mm | ref {report.reference_diameter_mm:.2f} mm"
        f" | DS {report.percent_diameter_stenosis:.1f} %"
        f" | AS {report.percent_area_stenosis:.1f} % | length {report.lesion_length_mm:.1f} mm\n"
        f"calibration {report.mm_per_px:.4f} mm/px ({_source_note(report)})",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def write_report(
    report: StenosisReport,
    image: Optional[np.ndarray],
    mask: Optional[np.ndarray],
    out_dir: Union[str, os.PathLike],
    overwrite: bool = False,
    stem: Optional[str] = None,
) -> Dict[str, Path]:
    """Write ``{stem}_report.json`` and ``{stem}_report.png`` into ``out_dir``.

    Args:
        report: the QCA result.
        image: the angiogram shown under the overlay (optional).
        mask: the label map / artery mask shown as overlay (optional).
        out_dir: output folder (created).
        overwrite: replace existing report files; otherwise ``FileExistsError`` before anything is written.
        stem: file name stem; default the input file's stem, else ``"qca"``.

    Returns:
        ``{"json": path, "png": path}``.
    """
    if stem is None:
        stem = Path(report.filename).name.split(".")[0] if report.filename else "qca"
    paths = report_paths(out_dir, stem)
    if not overwrite:
        for p in paths.values():
            if p.exists():
                raise FileExistsError(f"{p}: exists; refusing to overwrite (use overwrite=True / --overwrite)")
    fig = plot_report(report, image, mask)
    with atomic_path(paths["png"], overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png")
    with atomic_write(paths["json"], "w", overwrite=overwrite, encoding="utf-8") as f:
        json.dump(report.to_dict(), f, indent=2)
        f.write("\n")
    return paths
