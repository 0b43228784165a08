"""Exceptions raised for bad angiography input.

Every error names the offending file (when there is one) and the problem, so that a batch job can
report it and move on to the next file.
"""

from __future__ import annotations

from os import PathLike
from typing import Optional, Union

__all__ = ["AngioInputError", "CalibrationError"]


class AngioInputError(ValueError):
    """Raised when an input image, mask or sequence cannot be used.

    Args:
        problem: what is wrong, in words a user understands.
        filename: the file the input came from, if any.
    """

    def __init__(self, problem: str, filename: Optional[Union[str, PathLike]] = None) -> None:
        self.problem = problem
        self.filename = None if filename is None else str(filename)
        msg = problem if self.filename is None else f"{self.filename}: {problem}"
        super().__init__(msg)


class CalibrationError(AngioInputError):
    """Raised when no mm/pixel calibration can be derived (no catheter, no DICOM geometry)."""
