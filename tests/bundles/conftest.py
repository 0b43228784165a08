"""Fixtures for the bundle tests: tiny synthetic datasets and a helper to run bundle workflows.

The data set is written by ``monai-angio synth`` itself (decathlon-style ``datalist.json`` /
``datalist_cine.json`` with paths relative to their folder, PNG stills, ``(H, W, T)`` NIfTI cines with
``"frame"`` entries), at 64 x 64 pixels.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import pytest

from monai_angio.bundle import bundle_path

IMAGE_SIZE = 64


def write_synthetic_dataset(out: Path, n: int = 8, frames: int = 3, size: int = IMAGE_SIZE) -> Path:
    """Run ``monai-angio synth`` (its ``main``) into ``out``; returns the folder.

    ``n = 8`` cases split 5 / 2 / 1 (training / validation / test); ``frames > 1`` adds ``datalist_cine.json``
    with one entry per frame (every frame kept: ``--min-concentration 0``).
    """
    from monai_angio.apps.synth import main as synth_main

    args = ["--n", str(n), "--size", str(size), "--out", str(out), "--seed", "0", "--stenoses", "1"]
    if frames > 1:
        args += ["--frames", str(frames), "--min-concentration", "0"]
    assert synth_main(args) == 0
    return out


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """A tiny synthetic data set: 8 cases of 64 x 64 stills + 3-frame cines, with both datalists."""
    return write_synthetic_dataset(tmp_path_factory.mktemp("synth"))


def copy_bundle(name: str, dest: Path) -> Path:
    """Copy a bundle (without weights) to ``dest/name`` so that runs write nothing into the repository."""
    target = dest / name
    shutil.copytree(bundle_path(name), target, ignore=shutil.ignore_patterns("*.pt", "*.ts", "eval", "runs", "__pycache__"))
    return target


def run_workflow(bundle_root: Path, configs: Sequence[str], workflow_type: str | None, **override: Any):
    """Create, check, initialise, run and finalise a ``ConfigWorkflow`` of ``configs`` (names without .json).

    Returns the workflow (finalised); asserts that no required property is missing.
    """
    from monai.bundle import ConfigWorkflow

    cfg = [str(bundle_root / "configs" / f"{c}.json") for c in configs]
    wf = ConfigWorkflow(
        config_file=cfg if len(cfg) > 1 else cfg[0],
        meta_file=str(bundle_root / "configs" / "metadata.json"),
        logging_file=str(bundle_root / "configs" / "logging.conf"),
        workflow_type=workflow_type,
        bundle_root=str(bundle_root),
        **override,
    )
    wf.initialize()
    missing = wf.check_properties()
    assert not missing, f"missing/wrong bundle properties: {missing}"
    wf.run()
    wf.finalize()
    return wf


def pytest_configure(config) -> None:  # keep MONAI/torch from spawning threads on the shared CI cores
    os.environ.setdefault("OMP_NUM_THREADS", "1")
