"""Lossy codec round trips (numpy + PIL only): what an image looks like after it was stored compressed."""

from __future__ import annotations

import io

import numpy as np

__all__ = ["jpeg_roundtrip"]


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode a 2D image in ``[0, 1]`` as 8-bit JPEG (PIL) at ``quality`` and decode it back (float32 in ``[0, 1]``).

    Values outside ``[0, 1]`` are clipped first.
    """
    from PIL import Image

    u8 = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf), np.float32) / np.float32(255.0)
