"""A cine file read on demand, a window of frames at a time, with a bundle's own loading steps.

:class:`CineFile` is what :meth:`BundleRunner.open <monai_angio.bundle.runner.BundleRunner.open>` returns and what
``monai-angio segment`` hands to :meth:`~monai_angio.bundle.runner.BundleRunner.predict` and to the overlay
writers: the frame count, shape and metadata come from the header and the first frame, and pixels are decoded only
when a frame is asked for. A multi-frame DICOM is never held whole, so the memory of a run does not grow with the
cine's length beyond its ``uint8`` labels (see docs/design.md, "Streaming cines").
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

__all__ = ["CineFile", "DEFAULT_WINDOW"]

#: Frames decoded together (16 MB for 512 x 512 uint16 frames): one read of the file per window.
DEFAULT_WINDOW = 32

#: ``load(path, frames)`` -> ``MetaTensor (len(frames), H, W)`` row-major, the bundle's own loading steps.
Loader = Callable[[Union[str, os.PathLike], Sequence[int]], Any]


class CineFile:
    """The frames of a file, read on demand by ``load`` and indexed like a ``(T, H, W)`` array.

    Integer indexing (``cine[k]``, ``cine[k, ::2, ::2]``) decodes the window of frames around ``k`` and keeps it
    until another window is needed, so that a sequential pass (the GIF overlay) reads the file once per window;
    :meth:`read` returns any frames as the loader's ``MetaTensor``; ``np.asarray(cine)`` decodes everything (for
    callers that need the whole array).

    Args:
        path: the file.
        load: the bundle's loading steps for a list of frames (see :data:`Loader`).
        num_frames: the file's frame count (from its header).
        window: frames decoded together by integer indexing.
        frames: the file frames this object shows (default all), e.g. the frames a user asked to segment.
        first: the loader's result for the first frame when the caller has it already (its metadata, frame shape
            and type are used; otherwise it is read).

    Raises:
        AngioInputError: (from ``load``) an unreadable file or frame, named.
    """

    def __init__(
        self,
        path: Union[str, os.PathLike],
        load: Loader,
        num_frames: int,
        window: int = DEFAULT_WINDOW,
        frames: Optional[Sequence[int]] = None,
        first: Any = None,
    ) -> None:
        self.path = os.fspath(path)
        self._load = load
        self.num_frames = int(num_frames)
        self.window = max(1, int(window))
        self.frames: List[int] = list(range(self.num_frames)) if frames is None else [int(k) for k in frames]
        first = first if first is not None else load(self.path, [self.frames[0] if self.frames else 0])
        self.meta: Dict[str, Any] = dict(getattr(first, "meta", {}))
        self.meta["num_frames"] = self.num_frames
        self.frame_shape: Tuple[int, int] = (int(first.shape[-2]), int(first.shape[-1]))
        self.dtype = torch.empty(0, dtype=first.dtype).numpy().dtype if isinstance(first, torch.Tensor) else first.dtype
        self._first = first
        self._cache: Tuple[List[int], Optional[np.ndarray]] = ([], None)

    @property
    def shape(self) -> Tuple[int, int, int]:
        """``(T, H, W)`` of the frames shown."""
        return (len(self.frames), *self.frame_shape)

    @property
    def ndim(self) -> int:
        """Always 3."""
        return 3

    def __len__(self) -> int:
        return len(self.frames)

    def read(self, positions: Sequence[int]) -> Any:
        """Frames at ``positions`` (into :attr:`frames`) as the loader's ``(n, H, W)`` ``MetaTensor``."""
        return self._load(self.path, [self.frames[int(p)] for p in positions])

    def subset(self, positions: Sequence[int]) -> "CineFile":
        """The frames at ``positions`` as a new :class:`CineFile` (nothing decoded)."""
        return CineFile(
            self.path, self._load, self.num_frames, self.window, [self.frames[int(p)] for p in positions], self._first
        )

    def _frame(self, position: int) -> np.ndarray:
        n = len(self.frames)
        if not -n <= position < n:
            raise IndexError(f"frame {position} out of range for {n} frame(s)")
        position %= n
        ids, block = self._cache
        if position not in ids:
            ids = list(range(position, min(n, position + self.window)))
            block = np.asarray(torch.as_tensor(self.read(ids)).cpu())
            self._cache = (ids, block)
        return block[ids.index(position)]

    def __getitem__(self, key: Any) -> np.ndarray:
        """``cine[k]`` / ``cine[k, rows, cols]`` (one frame), or ``cine[list_or_slice]`` (several) as numpy."""
        rest: Tuple[Any, ...] = ()
        if isinstance(key, tuple):
            key, rest = key[0], key[1:]
        if isinstance(key, (int, np.integer)):
            return self._frame(int(key))[rest] if rest else self._frame(int(key))
        positions = range(len(self.frames))[key] if isinstance(key, slice) else [int(k) for k in np.ravel(key)]
        out = np.stack([self._frame(p) for p in positions]) if len(positions) else np.empty((0, *self.frame_shape))
        return out[(slice(None), *rest)] if rest else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.asarray(torch.as_tensor(self.read(range(len(self.frames)))).cpu())
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"CineFile({os.path.basename(self.path)!r}, shape={self.shape}, dtype={self.dtype})"
