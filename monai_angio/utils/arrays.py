"""Array conversions shared by the transforms and the QCA: tensors to numpy, ``(1, ..., H, W)`` to ``(H, W)``."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

__all__ = ["as_numpy", "squeeze_leading"]


def as_numpy(x: Any, dtype: Optional[Any] = None) -> np.ndarray:
    """``x`` as a numpy array: a (Meta)Tensor is detached and moved to the CPU first.

    Args:
        x: a tensor, array or array-like.
        dtype: optional dtype of the result (no copy when ``x`` already has it).
    """
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def squeeze_leading(x: Any, dtype: Optional[Any] = None) -> np.ndarray:
    """:func:`as_numpy` of ``x`` without its leading singleton axes (down to 2 dimensions).

    A channel-first ``(1, H, W)`` label map or a ``(1, 1, H, W)`` batch becomes ``(H, W)``; other axes are left as
    they are (a ``(3, H, W)`` array stays 3-D), so callers still check the number of dimensions they need.

    Args:
        x: a tensor, array or array-like.
        dtype: optional dtype of the result.
    """
    arr = as_numpy(x, dtype)
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    return arr
