"""MinMaxNormalize(d): [0, 1] scaling, constant images, NaN rejection with the file name."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.errors import AngioInputError
from monai_angio.transforms import MinMaxNormalize, MinMaxNormalized


def test_minmax_values_and_meta():
    x = MetaTensor(torch.tensor([[[100.0, 150.0], [200.0, 300.0]]]), meta={"filename_or_obj": "a.png"})
    y = MinMaxNormalize()(x)
    np.testing.assert_allclose(y.numpy(), [[[0.0, 0.25], [0.5, 1.0]]])
    assert isinstance(y, MetaTensor) and y.meta["filename_or_obj"] == "a.png" and y.dtype == torch.float32
    # the whole cine shares one scale by default; channel_wise scales frames separately
    cine = np.stack([np.full((2, 2), 10.0), np.array([[0.0, 20.0], [20.0, 20.0]])]).astype(np.float32)
    np.testing.assert_allclose(MinMaxNormalize()(cine)[0], 0.5)
    np.testing.assert_allclose(MinMaxNormalize(channel_wise=True)(cine)[0], 0.0)
    # uint16 input
    u16 = np.array([[[0, 65535]]], dtype=np.uint16)
    np.testing.assert_allclose(MinMaxNormalize()(u16), [[[0.0, 1.0]]])


def test_minmax_constant_is_zero():
    y = MinMaxNormalize()(torch.full((1, 4, 4), 7.0))
    assert torch.count_nonzero(y) == 0 and y.shape == (1, 4, 4)


def test_minmax_nan_names_file():
    x = MetaTensor(torch.ones(1, 4, 4), meta={"filename_or_obj": "bad_run.dcm"})
    x[0, 1, 1] = float("nan")
    with pytest.raises(AngioInputError, match=r"bad_run.dcm: image contains non-finite values \(1 NaN, 0 Inf\)"):
        MinMaxNormalize()(x)
    with pytest.raises(AngioInputError, match="Inf"):
        MinMaxNormalize()(np.array([[[0.0, np.inf]]]))


def test_minmax_dict():
    d = MinMaxNormalized(["image", "other"], allow_missing_keys=True)({"image": torch.tensor([[[2.0, 4.0]]]), "x": 1})
    np.testing.assert_allclose(d["image"].numpy(), [[[0.0, 1.0]]])
    assert d["x"] == 1
