"""The weights that ship in ``bundles/*/models/model.pt``: they load on a CPU and they segment.

For each bundle with weights: every tensor is a CPU tensor, the file is small enough to commit, the bundle loads
through the single inference path, and on a fixed synthetic phantom its label map beats a Dice floor that the same
network with random weights does not reach.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from monai_angio.bundle import BUNDLE_NAMES, bundles_dir, load_bundle
from monai_angio.data.synthetic import PhantomConfig, generate_phantom
from monai_angio.metrics import dice

SHIPPED = [n for n in BUNDLE_NAMES if (bundles_dir() / n / "models" / "model.pt").is_file()]

#: (bundle, target of label 1, Dice floor on the phantom of that size); random weights stay far below every floor
FLOORS = {
    "xca_artery_catheter_efficientunetpp": ("artery", 0.6, 256),
    "xca_vessel_unet3plus": ("vessel", 0.5, 256),
    "xca_major_vessel_unet": ("artery", 0.55, 256),
    # trained on cath-lab cines at 0.15-0.45 mm/px: the 256 px plain phantom (0.49 mm/px, vessels 2-6 px wide) is
    # coarser than anything it saw (Dice 0.0 there); the same phantom at 512 px (0.25 mm/px) is not (0.79)
    "xca_temporal_cenet": ("artery", 0.6, 512),
}


def _phantom(size: int = 256):
    return generate_phantom(900_007, PhantomConfig(size=size))


def _target(ph, kind: str) -> np.ndarray:
    if kind == "artery":
        return ph.label == 1
    return (np.asarray(ph.vessel_mask) > 0) & (ph.label != 2)


def test_trained_bundles_ship_weights() -> None:
    assert set(FLOORS) <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_are_small_cpu_tensors(name: str) -> None:
    path = bundles_dir() / name / "models" / "model.pt"
    assert path.stat().st_size < 50 * 2**20
    state = torch.load(path, weights_only=True)  # no map_location: fails on a CPU machine for CUDA tensors
    state = state.get("model", state) if isinstance(state, dict) and "model" in state else state
    assert state and all(t.device.type == "cpu" for t in state.values())


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_shipped_weights_beat_a_floor_random_weights_cannot(name: str, tmp_path: Path) -> None:
    if name not in SHIPPED:
        pytest.fail(f"{name} ships no weights")
    kind, floor, size = FLOORS[name]
    ph = _phantom(size)
    target = _target(ph, kind)
    trained = load_bundle(name, runtime="torch")
    assert trained.weights is not None
    score = dice(trained.predict(ph.image[None])[0] == 1, target)
    # the same bundle without its weights
    root = tmp_path / name
    shutil.copytree(bundles_dir() / name, root, ignore=shutil.ignore_patterns("*.pt", "*.onnx*", "eval", "runs"))
    torch.manual_seed(0)
    random = load_bundle(root, allow_random_weights=True, runtime="torch")
    assert random.weights is None
    chance = dice(random.predict(ph.image[None])[0] == 1, target)
    assert score >= floor > chance + 0.2, (score, floor, chance)
