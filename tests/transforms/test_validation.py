"""CheckFinite / EnsureAngioShape raise AngioInputError naming the file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_angio.errors import AngioInputError
from monai_angio.transforms import CheckFinite, CheckFinited, EnsureAngioShape, EnsureAngioShaped, get_filename


def test_check_finite():
    good = MetaTensor(torch.ones(1, 4, 4), meta={"filename_or_obj": "ok.png"})
    assert CheckFinite()(good) is good
    bad = good.clone()
    bad[0, 0, 0] = float("inf")
    with pytest.raises(AngioInputError) as e:
        CheckFinite()(bad)
    assert e.value.filename == "ok.png" and "1 Inf" in str(e.value)
    assert CheckFinite()(np.zeros((1, 2, 2), np.uint8)).sum() == 0  # integers are always finite
    with pytest.raises(AngioInputError, match="label contains non-finite"):
        CheckFinited("label")({"label": np.array([[[np.nan]]])})


def test_ensure_shape():
    img = MetaTensor(torch.zeros(5, 16, 16), meta={"filename_or_obj": "run.dcm"})
    assert EnsureAngioShape()(img) is img
    with pytest.raises(AngioInputError, match=r"run.dcm: image has 2 dimensions \(16, 16\), expected 3 \(C, H, W\)"):
        EnsureAngioShape()(img[0])
    with pytest.raises(AngioInputError, match="expected 1"):
        EnsureAngioShape(num_channels=1)(img)
    with pytest.raises(AngioInputError, match="smaller than the minimum 32"):
        EnsureAngioShape(min_size=32)(img)
    with pytest.raises(AngioInputError, match="empty"):
        EnsureAngioShape()(torch.zeros(0, 4, 4))
    assert EnsureAngioShape(spatial_dims=3)(torch.zeros(1, 3, 8, 8)).shape == (1, 3, 8, 8)
    d = EnsureAngioShaped(["image", "label"], allow_missing_keys=True)({"image": img})
    assert d["image"] is img
    with pytest.raises(AngioInputError, match="label has 4 dimensions"):
        EnsureAngioShaped("label")({"label": torch.zeros(1, 1, 4, 4)})
    assert get_filename({"filename_or_obj": ["a.png", "b.png"]}) == "a.png"
    assert get_filename(torch.zeros(1)) is None
