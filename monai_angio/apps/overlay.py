"""Visualisation helpers: label overlays on angiograms, colour legends, contact sheets and GIFs.

Colours follow the project convention (``docs/design.md``): label ``1`` (artery, or vessel for the
binary bundles) is drawn red, label ``2`` (catheter) green, semi-transparent over the grey image.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from monai_angio.utils import atomic_path

__all__ = [
    "LABEL_COLORS",
    "DEFAULT_CLASS_NAMES",
    "to_uint8_gray",
    "overlay_labels",
    "pick_frames",
    "save_overlay_png",
    "save_overlay_gif",
]

#: RGB colour (0-255) of every label value; 0 (background) is never painted.
LABEL_COLORS: Dict[int, Tuple[int, int, int]] = {1: (255, 0, 0), 2: (0, 255, 0)}

#: Default names shown in legends (three-class artery/catheter task).
DEFAULT_CLASS_NAMES: Dict[int, str] = {1: "artery", 2: "catheter"}


def to_uint8_gray(image: np.ndarray) -> np.ndarray:
    """Scale one grey image (any range) to ``uint8`` with its own min/max; NaN becomes 0.

    Args:
        image: ``(H, W)`` array.

    Returns:
        ``(H, W)`` ``uint8`` array.
    """
    img = np.asarray(image, dtype=np.float64)
    finite = np.isfinite(img)
    if not finite.any():
        return np.zeros(img.shape, dtype=np.uint8)
    lo, hi = float(img[finite].min()), float(img[finite].max())
    out = np.zeros(img.shape, dtype=np.float64)
    if hi > lo:
        out = (np.where(finite, img, lo) - lo) / (hi - lo)
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def overlay_labels(
    image: np.ndarray,
    label: np.ndarray,
    alpha: float = 0.5,
    colors: Optional[Mapping[int, Tuple[int, int, int]]] = None,
) -> np.ndarray:
    """Blend a label map over a grey image.

    Each labelled pixel becomes ``(1 - alpha) * grey + alpha * colour``; background pixels keep the
    grey value, so the angiogram stays readable under the mask.

    Args:
        image: ``(H, W)`` grey image (any range; scaled with :func:`to_uint8_gray`).
        label: ``(H, W)`` integer label map of the same shape.
        alpha: opacity of the colours in ``[0, 1]``.
        colors: label value -> RGB; defaults to :data:`LABEL_COLORS`.

    Returns:
        ``(H, W, 3)`` ``uint8`` RGB image.

    Raises:
        ValueError: shapes differ or ``alpha`` is outside ``[0, 1]``.
    """
    image = np.asarray(image)
    label = np.asarray(label)
    if image.shape != label.shape or image.ndim != 2:
        raise ValueError(f"image {image.shape} and label {label.shape} must be the same (H, W) shape")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    colors = LABEL_COLORS if colors is None else colors
    gray = to_uint8_gray(image).astype(np.float32)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    for value, color in colors.items():
        sel = label == value
        if sel.any():
            rgb[sel] = (1.0 - alpha) * rgb[sel] + alpha * np.asarray(color, dtype=np.float32)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


#: Smallest figure width (inches) of :func:`save_overlay_png`, so that a single still has room for its
#: title and legend.
MIN_FIGURE_WIDTH_IN: float = 6.0

#: largest panel of a still (inches at dpi 100): a 512 px image is drawn at its own resolution
STILL_PANEL_MAX_IN: float = 5.12


def _wrap_title(title: str, fig_width_in: float, fontsize: float = 10.0) -> list:
    """Split ``title`` into lines that fit a figure ``fig_width_in`` inches wide (about 0.6 em per character).

    Breaks at spaces first; over-long words (file names) are cut.
    """
    import textwrap

    chars = max(12, int(fig_width_in * 72.0 / (0.62 * fontsize)) - 2)
    lines: list = []
    for para in str(title).splitlines() or [""]:
        lines.extend(textwrap.wrap(para, width=chars, break_long_words=True, break_on_hyphens=False) or [""])
    return lines


def _frames(images: Any) -> Any:
    """``images`` as an array, unless it is already indexed like one (a :class:`~monai_angio.bundle.cine.CineFile`
    decodes only the frames drawn)."""
    indexed = all(hasattr(images, a) for a in ("shape", "ndim", "__getitem__"))
    return images if indexed else np.asarray(images)


def pick_frames(images: np.ndarray, labels: Optional[np.ndarray] = None, max_frames: int = 6) -> list:
    """Choose which frames of a cine to show: evenly spaced, always including the best-filled frame.

    The "best" frame is the one with the most labelled pixels (when labels are given) or else the
    lowest mean intensity (most contrast medium, since vessels are dark).

    Args:
        images: ``(T, H, W)`` cine.
        labels: optional ``(T, H, W)`` label maps.
        max_frames: most frames to return.

    Returns:
        Sorted list of frame indices.
    """
    t = int(images.shape[0])
    if t <= max_frames:
        return list(range(t))
    # frame by frame: no cine-sized temporaries (a 300-frame 512 x 512 cine: 79 MB of bool, 630 MB of float64)
    if labels is not None:
        best = int(np.argmax([np.count_nonzero(f) for f in np.asarray(labels)]))
    else:
        best = int(np.argmin([float(np.asarray(images[k]).mean(dtype=np.float64)) for k in range(t)]))
    picks = set(np.linspace(0, t - 1, max_frames - 1).round().astype(int).tolist())
    picks.add(best)
    return sorted(picks)


def save_overlay_png(
    path: Union[str, os.PathLike],
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Optional[Mapping[int, str]] = None,
    frame_indices: Optional[Sequence[int]] = None,
    max_frames: int = 6,
    alpha: float = 0.5,
    title: Optional[str] = None,
    overwrite: bool = True,
    mm_per_px: Optional[float] = None,
    scale_note: Optional[str] = None,
) -> Path:
    """Write a PNG with the labels over the image, a colour legend and the frame index of each panel.

    A still gives two panels side by side, the image alone and the labels over it, each near the image's own
    resolution (up to 512 px), so thin vessels can be checked against the image; a cine gives a contact sheet of up
    to ``max_frames`` overlay panels (see :func:`pick_frames`).

    Args:
        path: output PNG path (written atomically).
        images: ``(T, H, W)`` or ``(H, W)`` image(s) (an array, or anything indexed like one, such as a
            :class:`~monai_angio.bundle.cine.CineFile`: only the panels' frames are decoded).
        labels: label map(s) of the same shape.
        class_names: label value -> legend text; defaults to artery / catheter.
        frame_indices: frame numbers to print under each panel (default ``0..T-1``), e.g. the
            original frame numbers when only some frames were segmented.
        max_frames: most panels in a contact sheet.
        alpha: colour opacity.
        title: optional figure title (e.g. the input file name).
        overwrite: replace an existing file.
        mm_per_px: pixel size (mm); when given, every overlay panel gets a millimetre scale bar.
        scale_note: text after the bar's length, e.g. ``"at isocentre"`` (where the pixel size holds).

    Returns:
        The written path.
    """
    # object-oriented API, no pyplot: never switches the caller's backend (e.g. %matplotlib inline in notebooks)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    images = _frames(images)
    labels = np.asarray(labels)
    if images.ndim == 2:
        images, labels = images[None], labels[None]
    t = images.shape[0]
    frame_indices = list(range(t)) if frame_indices is None else list(frame_indices)
    picks = pick_frames(images, labels, max_frames=max_frames)
    names = dict(DEFAULT_CLASS_NAMES if class_names is None else class_names)
    still = t == 1
    h, w = images.shape[1:]
    n = 2 if still else len(picks)
    ncols = min(n, 3)
    nrows = int(np.ceil(n / ncols))
    # inches at dpi 100: a still is shown near its own resolution (3.2-5.12 in = 320-512 px), a sheet's panels small
    panel = float(np.clip(max(h, w) / 100.0, 3.2, STILL_PANEL_MAX_IN)) if still else 3.2
    # a single still gets a wider figure so that the title and the legend fit; long titles are wrapped
    fig_w = max(panel * ncols, MIN_FIGURE_WIDTH_IN)
    title_lines = _wrap_title(title, fig_w) if title else []
    title_h = 0.22 * len(title_lines) + 0.15 if title_lines else 0.0
    legend_h = 0.45
    panels_h = nrows * (panel * h / max(w, 1) + 0.45)
    fig_h = panels_h + title_h + legend_h
    fig = Figure(figsize=(fig_w, fig_h))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    if still:
        gray = to_uint8_gray(images[0])
        axes[0, 0].imshow(gray, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        axes[0, 0].set_title("image", fontsize=9)
        axes[0, 1].imshow(overlay_labels(images[0], labels[0], alpha=alpha), interpolation="nearest")
        axes[0, 1].set_title("labels", fontsize=9)
    else:
        for ax, k in zip(axes.ravel(), picks):
            ax.imshow(overlay_labels(images[k], labels[k], alpha=alpha), interpolation="nearest")
            ax.set_title(f"frame {frame_indices[k]} / {t}", fontsize=9)
    if mm_per_px is not None and mm_per_px > 0:
        from monai_angio.utils.scale_bar import add_scale_bar

        for ax in axes.ravel()[1:2] if still else axes.ravel()[: len(picks)]:
            add_scale_bar(ax, float(mm_per_px), (h, w), note=scale_note)
    handles = [
        Patch(facecolor=np.asarray(LABEL_COLORS[v]) / 255.0, alpha=max(alpha, 0.6), label=names.get(v, f"label {v}"))
        for v in sorted(LABEL_COLORS)
        if v in names
    ]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=9)
    if title_lines:
        fig.suptitle("\n".join(title_lines), fontsize=10, y=1.0 - 0.08 / fig_h, va="top")
    fig.tight_layout(rect=(0, legend_h / fig_h, 1, 1.0 - title_h / fig_h))
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return path


def save_overlay_gif(
    path: Union[str, os.PathLike],
    images: np.ndarray,
    labels: np.ndarray,
    frame_time_ms: float = 100.0,
    alpha: float = 0.5,
    max_side: int = 256,
    overwrite: bool = True,
    max_frames: int = 120,
) -> Path:
    """Write an animated GIF of the overlay over the frames of a cine.

    Frames are drawn one at a time, subsampled in space (``max_side``) and, for long cines, in time: every
    ``ceil(T / max_frames)``-th frame, each shown that many frame times, so that the GIF still plays in real
    time and its size and memory stay bounded whatever the frame count.

    Args:
        path: output ``.gif`` path (written atomically).
        images: ``(T, H, W)`` cine (an array, or anything indexed like one, such as a
            :class:`~monai_angio.bundle.cine.CineFile`: only the frames drawn are decoded).
        labels: ``(T, H, W)`` label maps.
        frame_time_ms: display time of each frame.
        alpha: colour opacity.
        max_side: frames larger than this are subsampled (nearest) to keep the file small.
        overwrite: replace an existing file.
        max_frames: most frames in the GIF.

    Returns:
        The written path.
    """
    import imageio.v2 as imageio

    labels = np.asarray(labels)
    t = int(labels.shape[0])
    step = max(1, int(np.ceil(max(images.shape[1:]) / max_side)))
    stride = max(1, int(np.ceil(t / max(1, int(max_frames)))))
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        with imageio.get_writer(tmp, format="GIF", duration=stride * float(frame_time_ms), loop=0) as w:
            for k in range(0, t, stride):
                img = np.asarray(images[k, ::step, ::step], dtype=np.float32)
                w.append_data(overlay_labels(img, labels[k, ::step, ::step], alpha=alpha))
    return path
