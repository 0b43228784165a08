"""A millimetre scale bar on an image axis (matplotlib), for overlays and QCA reports."""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["scale_bar_mm", "add_scale_bar"]

#: bar lengths a reader can take in at a glance (mm)
_NICE_MM = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def scale_bar_mm(mm_per_px: float, width_px: int, fraction: float = 0.2) -> float:
    """The bar length (mm) of :data:`_NICE_MM` closest to ``fraction`` of the image width, at most 40 % of it.

    Args:
        mm_per_px: pixel size in mm.
        width_px: image width in px.
        fraction: preferred share of the width.

    Returns:
        The bar length in mm.

    Raises:
        ValueError: ``mm_per_px`` or ``width_px`` is not positive.
    """
    if not mm_per_px > 0 or width_px <= 0:
        raise ValueError(f"scale bar needs a positive mm/px and width, got {mm_per_px!r}, {width_px!r}")
    want = fraction * width_px * mm_per_px
    fits = [v for v in _NICE_MM if v / mm_per_px <= 0.4 * width_px] or [_NICE_MM[0]]
    return min(fits, key=lambda v: abs(v - want) / want)


def add_scale_bar(ax: Any, mm_per_px: float, shape: tuple, note: Optional[str] = None, fontsize: float = 8) -> float:
    """Draw a white bar with a black outline and its length at the lower left of an ``imshow`` axis.

    Args:
        ax: matplotlib axis showing an image of ``shape`` (rows, cols) in pixel coordinates.
        mm_per_px: pixel size in mm (e.g. the catheter calibration, or the DICOM isocentre spacing).
        shape: ``(rows, cols)`` of the image.
        note: text after the length, e.g. ``"at isocentre"``.
        fontsize: label size.

    Returns:
        The bar length in mm.
    """
    import matplotlib.patheffects as pe

    rows, cols = int(shape[0]), int(shape[1])
    mm = scale_bar_mm(mm_per_px, cols)
    length = mm / mm_per_px
    x0, y0 = 0.05 * cols, 0.94 * rows
    outline = [pe.withStroke(linewidth=4, foreground="black")]
    ax.plot([x0, x0 + length], [y0, y0], "-", color="white", lw=2.5, solid_capstyle="butt", path_effects=outline)
    text = f"{mm:g} mm" + (f" {note}" if note else "")
    ax.text(x0, y0 - 0.02 * rows, text, color="white", fontsize=fontsize, ha="left", va="bottom",
            path_effects=[pe.withStroke(linewidth=2, foreground="black")])
    return mm
