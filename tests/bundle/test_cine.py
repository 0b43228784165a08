"""Streaming cines: :class:`monai_angio.bundle.cine.CineFile` and :meth:`BundleRunner.predict` on it.

A cine segmented from its file a window of frames at a time must give exactly the labels of the whole cine in
memory, while no read ever decodes more than one window.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np
import pytest
import torch

from monai_angio.bundle import load_bundle
from monai_angio.bundle.cine import CineFile
from monai_angio.errors import AngioInputError


class _ArrayLoader:
    """A loader over an in-memory cine that records which frames each call read."""

    def __init__(self, cine: np.ndarray) -> None:
        self.cine = cine
        self.calls: List[List[int]] = []

    def __call__(self, path: str, frames: Sequence[int]) -> torch.Tensor:
        self.calls.append(list(frames))
        return torch.as_tensor(self.cine[list(frames)])


def test_cine_file_indexes_like_an_array_and_decodes_a_window_at_a_time() -> None:
    cine = np.arange(10 * 4 * 6, dtype=np.uint16).reshape(10, 4, 6)
    load = _ArrayLoader(cine)
    f = CineFile("x.dcm", load, num_frames=10, window=4)
    assert f.shape == (10, 4, 6) and f.ndim == 3 and len(f) == 10 and f.dtype == np.uint16
    assert f.meta["num_frames"] == 10
    load.calls.clear()
    for k in range(10):  # a sequential pass (the GIF) reads the file once per window
        np.testing.assert_array_equal(f[k], cine[k])
    assert load.calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    np.testing.assert_array_equal(f[3, ::2, 1:], cine[3, ::2, 1:])
    np.testing.assert_array_equal(f[-1], cine[9])
    np.testing.assert_array_equal(f[[7, 2]], cine[[7, 2]])
    np.testing.assert_array_equal(f[2:8:3], cine[2:8:3])
    np.testing.assert_array_equal(np.asarray(f), cine)
    with pytest.raises(IndexError):
        f[10]
    sub = f.subset([9, 0, 5])
    assert sub.shape == (3, 4, 6) and sub.frames == [9, 0, 5]
    np.testing.assert_array_equal(np.asarray(sub), cine[[9, 0, 5]])
    np.testing.assert_array_equal(sub[1], cine[0])


@pytest.fixture(scope="module")
def phantom_cine(tmp_path_factory) -> Path:
    from monai_angio.data import PhantomConfig, generate_cine
    from monai_angio.data.dicom import write_dicom_xa

    cine = generate_cine(3, PhantomConfig(size=256), frames=11)
    path = tmp_path_factory.mktemp("stream") / "cine.dcm"
    write_dicom_xa(path, np.asarray(cine.images, np.float32), imager_pixel_spacing_mm=0.3, frame_time_ms=66.7)
    return path


def test_streamed_cine_gives_the_labels_of_the_whole_cine(phantom_cine: Path) -> None:
    runner = load_bundle("xca_artery_catheter_efficientunetpp", runtime="torch")
    assert runner.streams
    whole = runner.predict(runner.load(phantom_cine))
    reads: List[List[int]] = []
    load = runner.load

    def spy(path, frames=None):
        reads.append(list(frames) if frames is not None else None)
        return load(path, frames)

    runner.load = spy  # type: ignore[method-assign]
    cine = runner.open(phantom_cine, window=4)
    reads.clear()
    streamed = runner.predict(cine, batch_size=2)
    np.testing.assert_array_equal(streamed, whole)
    assert (whole == 1).sum() > 200 and (whole == 2).sum() > 50  # a real segmentation, not an empty map
    assert reads and all(r is not None and len(r) <= 4 for r in reads)  # never the whole cine at once
    assert sorted(k for r in reads for k in r) == sorted(2 * list(range(11)))  # mean frame pass + segmenting pass
    picks = [10, 0, 0, 6]
    np.testing.assert_array_equal(runner.predict(cine, picks), whole[picks])


def test_streamed_cine_refuses_what_cannot_be_segmented(tmp_path: Path) -> None:
    from monai_angio.data.dicom import write_dicom_xa

    path = tmp_path / "flat.dcm"
    write_dicom_xa(path, np.full((5, 32, 32), 0.5, np.float32))
    runner = load_bundle("xca_artery_catheter_efficientunetpp", runtime="torch")
    with pytest.raises(AngioInputError, match="flat.dcm.*no contrast"):
        runner.predict(runner.open(path, window=2))
    with pytest.raises(AngioInputError, match="flat.dcm.*frame 5 requested but the input has 5"):
        runner.predict(runner.open(path), [5])
    with pytest.raises(AngioInputError, match="flat.dcm.*frame 7 requested but the file has 5"):
        runner.load(path, frames=[7])


def test_a_bundle_with_whole_cine_steps_reads_the_cine_whole(phantom_cine: Path) -> None:
    """The temporal bundle scales the intensities of the whole run: it cannot stream, and gives the same labels
    from a CineFile as from the cine in memory."""
    runner = load_bundle("xca_temporal_cenet", runtime="torch")
    assert not runner.streams
    whole = runner.predict(runner.load(phantom_cine), [0, 5])
    np.testing.assert_array_equal(runner.predict(runner.open(phantom_cine), [0, 5]), whole)


def test_a_loader_that_reads_whole_files_is_read_once(phantom_cine: Path) -> None:
    """A bundle whose loader cannot read chosen frames gets its file read once by ``open`` (not once per window),
    and the same labels."""
    from monai_angio.transforms import READ_FRAMES_KEY, LoadAngiogramd

    class WholeFileLoader(LoadAngiogramd):
        calls = 0

        def __call__(self, data):
            WholeFileLoader.calls += 1
            return super().__call__({k: v for k, v in data.items() if k != READ_FRAMES_KEY})

    runner = load_bundle("xca_artery_catheter_efficientunetpp", runtime="torch")
    whole = runner.predict(runner.load(phantom_cine))
    runner.loader = [WholeFileLoader("image", dtype=None), *runner.loader[1:]]
    assert not runner.reads_frames and not runner.streams
    cine = runner.open(phantom_cine, window=4)
    assert WholeFileLoader.calls == 1 and cine.shape == (11, 256, 256)
    np.testing.assert_array_equal(runner.predict(cine), whole)
    np.testing.assert_array_equal(cine[7], np.asarray(runner.load(phantom_cine))[7])
    assert WholeFileLoader.calls == 2  # the check's own load above; the CineFile itself read nothing more
