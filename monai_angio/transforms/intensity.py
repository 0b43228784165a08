"""Intensity normalisation of angiograms (min/max to ``[0, 1]`` with NaN/Inf checking)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
from monai.config import DtypeLike, KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, ScaleIntensity

from monai_angio.transforms.validation import check_finite

__all__ = ["MinMaxNormalize", "MinMaxNormalized"]


class MinMaxNormalize(ScaleIntensity):
    """Scale an image (the whole array, all frames together) linearly to ``[0, 1]``.

    A thin layer over MONAI's :class:`~monai.transforms.ScaleIntensity` that first refuses NaN/Inf values
    (which would silently produce an all-NaN image) with :class:`~monai_angio.errors.AngioInputError` naming
    the file from ``img.meta``. A constant image becomes all zeros (MONAI's behaviour). Vessels stay dark.

    Args:
        channel_wise: scale every channel/frame separately instead of the whole array.
        dtype: output data type.
    """

    def __init__(self, channel_wise: bool = False, dtype: DtypeLike = np.float32) -> None:
        super().__init__(minv=0.0, maxv=1.0, channel_wise=channel_wise, dtype=dtype)

    def __call__(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        """Check ``img`` for non-finite values and scale it to ``[0, 1]``."""
        check_finite(img)
        return super().__call__(img)


class MinMaxNormalized(MapTransform):
    """Dictionary version of :class:`MinMaxNormalize`.

    Args:
        keys: keys of the images to normalise.
        channel_wise: see :class:`MinMaxNormalize`.
        dtype: output data type.
        allow_missing_keys: don't raise if a key is missing.
    """

    def __init__(
        self,
        keys: KeysCollection,
        channel_wise: bool = False,
        dtype: DtypeLike = np.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.normalizer = MinMaxNormalize(channel_wise=channel_wise, dtype=dtype)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.normalizer(d[key])
        return d
