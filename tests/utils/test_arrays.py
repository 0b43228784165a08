import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.utils.arrays import as_numpy, squeeze_leading


def test_as_numpy_detaches_tensors_and_keeps_arrays():
    t = torch.arange(6.0, requires_grad=True).reshape(2, 3)
    out = as_numpy(t * 2)
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)
    np.testing.assert_array_equal(out, np.arange(6.0).reshape(2, 3) * 2)
    a = np.zeros((2, 2), np.float32)
    assert as_numpy(a) is a  # no copy without a dtype change
    assert as_numpy(a, np.float64).dtype == np.float64
    assert as_numpy([[1, 2]]).shape == (1, 2)


@pytest.mark.parametrize(
    "shape, expected",
    [((1, 4, 5), (4, 5)), ((1, 1, 4, 5), (4, 5)), ((4, 5), (4, 5)), ((3, 4, 5), (3, 4, 5)), ((1, 3, 4, 5), (3, 4, 5))],
)
def test_squeeze_leading_drops_only_leading_singletons(shape, expected):
    x = np.random.default_rng(0).random(shape)
    out = squeeze_leading(x)
    assert out.shape == expected
    np.testing.assert_array_equal(out.reshape(-1), x.reshape(-1))


def test_squeeze_leading_metatensor_and_dtype():
    m = MetaTensor(torch.ones(1, 3, 2, dtype=torch.uint8), meta={"filename_or_obj": "x.png"})
    out = squeeze_leading(m, np.float64)
    assert isinstance(out, np.ndarray) and out.shape == (3, 2) and out.dtype == np.float64
    assert squeeze_leading(np.ones((1, 1, 1))).shape == (1, 1)  # never below 2 dimensions
