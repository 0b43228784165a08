"""Frame-size limits of an angiogram, without torch or MONAI: the readers apply them before decoding."""

from __future__ import annotations

from typing import Optional

from monai_angio.errors import AngioInputError

__all__ = ["MIN_SIZE_PX", "MAX_SIZE_PX", "MAX_FRAME_PIXELS", "MAX_ASPECT_RATIO", "check_frame_size", "is_oversized"]

#: smallest and largest in-plane size (pixels) an angiogram may have
MIN_SIZE_PX, MAX_SIZE_PX = 16, 16384
#: most pixels one frame may have (a 4096 x 4096 frame; X-ray detectors give at most about 2500 x 2500)
MAX_FRAME_PIXELS = 4096 * 4096
#: longest side / shortest side above which a "frame" is no angiogram (a strip, a banner, a line scan)
MAX_ASPECT_RATIO = 8.0


def check_frame_size(h: int, w: int, filename: Optional[str] = None) -> None:
    """Refuse a frame size no angiogram has, with the size, the limit and the file named.

    Args:
        h: rows.
        w: columns.
        filename: named in the error.

    Raises:
        AngioInputError: a side below ``MIN_SIZE_PX`` or above ``MAX_SIZE_PX``, more than ``MAX_FRAME_PIXELS``
            pixels, or sides more unequal than ``MAX_ASPECT_RATIO``.
    """
    if min(h, w) < MIN_SIZE_PX:
        raise AngioInputError(f"image is {h}x{w} px; at least {MIN_SIZE_PX}x{MIN_SIZE_PX} is needed", filename)
    if max(h, w) > MAX_SIZE_PX:
        raise AngioInputError(f"image is {h}x{w} px; at most {MAX_SIZE_PX} px per side is supported", filename)
    if h * w > MAX_FRAME_PIXELS:
        raise AngioInputError(
            f"image is {h}x{w} px ({h * w / 1e6:.1f} megapixels); at most {MAX_FRAME_PIXELS / 1e6:.1f} megapixels "
            "per frame (4096x4096) are segmented: downscale it first",
            filename,
        )
    if max(h, w) > MAX_ASPECT_RATIO * min(h, w):
        raise AngioInputError(
            f"image is {h}x{w} px: sides more unequal than {MAX_ASPECT_RATIO:g}:1 are no angiogram frame", filename
        )


def is_oversized(h: int, w: int) -> bool:
    """Whether a ``h x w`` frame exceeds the upper limits (``MAX_SIZE_PX`` per side, ``MAX_FRAME_PIXELS``)."""
    return h * w > MAX_FRAME_PIXELS or max(h, w) > MAX_SIZE_PX
