"""Give a transform's numpy result back as the type it was given."""

from __future__ import annotations

import numpy as np
import torch
from monai.config import NdarrayOrTensor
from monai.data import MetaTensor

__all__ = ["float32_like"]


def float32_like(out: np.ndarray, img: NdarrayOrTensor) -> NdarrayOrTensor:
    """``out`` as float32 of ``img``'s type: a MetaTensor keeps its metadata and applied operations (a bundle's
    ``Invertd`` then still maps the prediction back), a tensor its device, an array stays an array.

    Float32 whatever ``img``'s dtype: an integer image would truncate a normalised result.
    """
    out = np.asarray(out, dtype=np.float32)
    if isinstance(img, MetaTensor):
        meta = img.clone()
        return MetaTensor(torch.from_numpy(out), meta=meta.meta, applied_operations=meta.applied_operations)
    if isinstance(img, torch.Tensor):
        return torch.as_tensor(out, device=img.device)
    return out
