"""Progress that both a terminal and a log file show.

On a terminal, long work shows tqdm bars. When the stream is not a terminal (stderr redirected to a file, a CI or
batch-scheduler log), tqdm either hides its bars (``disable=None``) or writes carriage-return updates that a log
shows as one endless line; :class:`Progress` writes plain lines there instead::

    files 1/3: runs/a.dcm
    frames 10/48 (4.1 s, 2.4 frame/s)
    frames 20/48 (8.3 s, 2.4 frame/s)
    ...
    frames 48/48 done in 19.8 s (2.4 frame/s)
    files 2/3: runs/b.png
    ...
    files 3/3 done in 61.2 s (0.05 file/s)

A line is written when an item is announced (:meth:`Progress.begin`, one line per input file), every ``every``
items (default 10) or ``interval_s`` seconds (default 10 s), whichever comes first, and when the work is done.

What a function that reports progress takes (e.g. ``BundleRunner.predict(..., progress=...)``) is a
:data:`ProgressLike`: ``False`` / ``None`` (nothing), ``True`` (a bar on a terminal, lines otherwise) or a
:data:`ProgressCallback` ``progress(done, total)`` of the caller's (a GUI, a web service, a test). The function
hands it to :func:`make_progress` and only calls :meth:`Progress.update` / :meth:`Progress.close`::

    bar = make_progress(progress, total=len(indices), desc="frames", unit="frame", leave=False)
    for chunk in chunks:
        ...
        bar.update(len(chunk))
    bar.close()

:func:`track` does the same around a loop (``for f in track(files, progress, desc="files", label=str)``).
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, Iterable, Iterator, Optional, TextIO, TypeVar, Union

__all__ = ["ProgressCallback", "ProgressLike", "Progress", "is_terminal", "make_progress", "track"]

#: ``progress(done, total)``: ``done`` items of ``total`` are finished (``total`` is -1 when unknown).
ProgressCallback = Callable[[int, int], None]
#: What a function reporting progress accepts: ``False`` / ``None`` (off), ``True`` (bar or lines), a callback.
ProgressLike = Union[bool, None, ProgressCallback]

T = TypeVar("T")


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal (False for files, pipes, pytest's capture, closed streams)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Progress:
    """Progress of one piece of work of ``total`` items: a tqdm bar, plain lines, a callback, or nothing.

    Use :func:`make_progress` to get one from a :data:`ProgressLike` argument; the constructor is the explicit form.

    Args:
        total: number of items (None when unknown).
        desc: what is counted, first word of every line (``"frames"``, ``"files"``).
        unit: the unit of a rate (``"frame"`` -> ``2.4 frame/s``).
        mode: ``"bar"`` (tqdm), ``"lines"``, ``"callback"`` or ``"off"``; None: ``"bar"`` when ``stream`` is a
            terminal, else ``"lines"``.
        callback: the :data:`ProgressCallback` of ``mode="callback"`` (then ``mode`` may be left None).
        every: in ``"lines"`` mode, write a line each time ``done`` passes a multiple of ``every``.
        interval_s: in ``"lines"`` mode, also write a line when this many seconds passed since the last one.
        stream: where bars and lines go; None: ``sys.stderr`` at the time of the call.
        leave: keep the tqdm bar on screen when closed.
    """

    def __init__(
        self,
        total: Optional[int] = None,
        desc: str = "progress",
        unit: str = "it",
        mode: Optional[str] = None,
        callback: Optional[ProgressCallback] = None,
        every: int = 10,
        interval_s: float = 10.0,
        stream: Optional[TextIO] = None,
        leave: bool = True,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        if mode is None:
            mode = "callback" if callback is not None else ("bar" if is_terminal(self.stream) else "lines")
        if mode not in ("bar", "lines", "callback", "off"):
            raise ValueError(f"mode must be 'bar', 'lines', 'callback' or 'off', got {mode!r}")
        if mode == "callback" and not callable(callback):
            raise ValueError("mode 'callback' needs a callable callback(done, total)")
        self.total = None if total is None else int(total)
        self.desc, self.unit, self.mode, self.callback = desc, unit, mode, callback
        self.every, self.interval_s, self.leave = max(1, int(every)), float(interval_s), leave
        self.done = 0
        self.closed = False
        self._t0 = self._last_t = time.perf_counter()
        self._last_mark = 0  # the count the last line showed
        self._bar: Any = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit=unit, leave=leave, file=self.stream)
        elif mode == "callback":
            self._call()

    # ------------------------------------------------------------------------------------------------ public

    def begin(self, label: str) -> None:
        """Announce the next item (``done + 1``): a line ``"<desc> i/total: <label>"``, or the bar's postfix."""
        if self.mode == "lines":
            self._write(f"{self._count(self.done + 1)}: {label}")
            self._last_mark = self.done + 1
        elif self.mode == "bar":
            self._bar.set_postfix_str(str(label), refresh=False)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more finished items."""
        if self.closed or n <= 0:
            return
        self.done += int(n)
        if self.mode == "bar":
            self._bar.update(int(n))
        elif self.mode == "callback":
            self._call()
        elif self.mode == "lines":
            now = time.perf_counter()
            finished = self.total is not None and self.done >= self.total
            if not finished and (
                self.done // self.every > self._last_mark // self.every or now - self._last_t >= self.interval_s
            ):
                elapsed = now - self._t0
                self._write(f"{self._count(self.done)} ({elapsed:.1f} s{self._rate(elapsed)})")
                self._last_mark = self.done

    def close(self) -> None:
        """Finish: close the bar, or write the final line (``"... done in 12.3 s"``); idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.mode == "bar":
            self._bar.close()
        elif self.mode == "lines":
            elapsed = time.perf_counter() - self._t0
            finished = self.total is None or self.done >= self.total
            state = "done in" if finished else "stopped after"
            self._write(f"{self._count(self.done)} {state} {elapsed:.1f} s{self._rate(elapsed, ' (', ')')}")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ private

    def _count(self, k: int) -> str:
        return f"{self.desc} {k}" if self.total is None else f"{self.desc} {k}/{self.total}"

    def _rate(self, elapsed: float, before: str = ", ", after: str = "") -> str:
        if self.done <= 0 or elapsed <= 0:
            return ""
        rate = self.done / elapsed
        return f"{before}{rate:.3g} {self.unit}/s{after}"

    def _write(self, line: str) -> None:
        self._last_t = time.perf_counter()
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken log stream must not stop the work
            pass

    def _call(self) -> None:
        assert self.callback is not None
        self.callback(self.done, -1 if self.total is None else self.total)


def make_progress(
    progress: ProgressLike,
    total: Optional[int] = None,
    desc: str = "progress",
    unit: str = "it",
    every: int = 10,
    interval_s: float = 10.0,
    stream: Optional[TextIO] = None,
    leave: bool = True,
) -> Progress:
    """The :class:`Progress` a :data:`ProgressLike` argument asks for.

    Args:
        progress: ``False`` / ``None``: nothing; ``True``: a tqdm bar when ``stream`` is a terminal, else plain
            lines; a callable: called as ``progress(done, total)`` once at the start (``done == 0``) and after
            every :meth:`Progress.update`.
        total: number of items (None when unknown; a callback then gets ``total == -1``).
        desc: what is counted (``"frames"``).
        unit: unit of the rate in lines and bars (``"frame"``).
        every: lines mode: a line every ``every`` items ...
        interval_s: ... or every ``interval_s`` seconds, whichever comes first.
        stream: where bars and lines go (default: ``sys.stderr`` now).
        leave: keep the bar on screen when closed.

    Returns:
        A :class:`Progress`; call :meth:`~Progress.update` and :meth:`~Progress.close` (or use it as a context
        manager).

    Raises:
        TypeError: ``progress`` is neither a bool, None nor callable.
    """
    common = dict(total=total, desc=desc, unit=unit, every=every, interval_s=interval_s, stream=stream, leave=leave)
    if progress is None or progress is False:
        return Progress(mode="off", **common)  # type: ignore[arg-type]
    if progress is True:
        return Progress(**common)  # type: ignore[arg-type]
    if callable(progress):
        return Progress(mode="callback", callback=progress, **common)  # type: ignore[arg-type]
    raise TypeError(f"progress must be a bool, None or a callable(done, total), got {type(progress).__name__}")


def track(
    iterable: Iterable[T],
    progress: ProgressLike = True,
    desc: str = "progress",
    unit: str = "it",
    total: Optional[int] = None,
    label: Optional[Callable[[T], str]] = None,
    every: int = 10,
    interval_s: float = 10.0,
    stream: Optional[TextIO] = None,
    leave: bool = True,
) -> Iterator[T]:
    """Iterate over ``iterable`` reporting progress (like ``tqdm(iterable)``, with plain lines in a log).

    Args:
        iterable: the items.
        progress: see :func:`make_progress`.
        desc: what is counted (``"files"``).
        unit: unit of the rate (``"file"``).
        total: number of items (default ``len(iterable)`` when it has one).
        label: if given, every item is announced before it is processed: a line ``"files 2/5: <label(item)>"``
            in a log, the bar's postfix on a terminal.
        every: see :func:`make_progress` (with ``label``, every item gets its line anyway).
        interval_s: see :func:`make_progress`.
        stream: see :func:`make_progress`.
        leave: see :func:`make_progress`.

    Yields:
        The items of ``iterable``; the progress is closed when the loop ends (also by ``break`` or an error).
    """
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    bar = make_progress(progress, total, desc, unit, every, interval_s, stream, leave)
    try:
        for item in iterable:
            if label is not None:
                bar.begin(label(item))
            yield item
            bar.update(1)
    finally:
        bar.close()
