"""Progress on a stream that is not a terminal (a log file): plain lines; a callback; off; a bar on a terminal."""

from __future__ import annotations

import io

import pytest

from monai_angio.utils.progress import Progress, is_terminal, make_progress, track


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_every_n_items_and_a_final_line():
    log = io.StringIO()
    bar = make_progress(True, total=25, desc="frames", unit="frame", every=10, interval_s=1e9, stream=log)
    assert bar.mode == "lines" and not is_terminal(log)
    for _ in range(6):  # batches of 4, then 1: 4, 8, 12, 16, 20, 24, 25
        bar.update(4 if bar.done < 24 else 1)
    bar.update(1)
    bar.close()
    bar.close()  # idempotent
    lines = log.getvalue().splitlines()
    assert [ln.split(" (")[0].split(" done")[0] for ln in lines] == ["frames 12/25", "frames 20/25", "frames 25/25"]
    assert lines[0].endswith("frame/s)") and " s, " in lines[0]
    assert lines[-1].startswith("frames 25/25 done in ") and "frame/s" in lines[-1]


def test_lines_every_interval_and_unknown_total():
    log = io.StringIO()
    with Progress(desc="frames", every=1000, interval_s=0.0, stream=log) as bar:
        bar.update(3)
        bar.update(2)
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("frames 3 (") and lines[1].startswith("frames 5 (")
    assert lines[2].startswith("frames 5 done in ")


def test_track_announces_every_file(capsys):
    files = ["a.png", "b.dcm", "c.nii.gz"]
    seen = list(track(files, True, desc="files", unit="file", label=str))  # default stream: sys.stderr now
    assert seen == files
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == ["files 1/3: a.png", "files 2/3: b.dcm", "files 3/3: c.nii.gz"]
    assert len(err) == 4 and err[3].startswith("files 3/3 done in ")


def test_track_stopped_early_says_so():
    log = io.StringIO()
    for i in track(range(5), desc="cases", label=str, stream=log):
        if i == 1:
            break
    assert log.getvalue().splitlines()[-1].startswith("cases 1/5 stopped after ")


def test_callback_and_off():
    calls = []
    bar = make_progress(lambda done, total: calls.append((done, total)), total=10, desc="frames")
    bar.update(4)
    bar.update(6)
    bar.close()
    assert calls == [(0, 10), (4, 10), (10, 10)]
    calls.clear()
    list(track(iter([1, 2]), lambda d, t: calls.append((d, t))))
    assert calls == [(0, -1), (1, -1), (2, -1)]
    log = io.StringIO()
    for off in (False, None):
        with make_progress(off, total=3, stream=log) as bar:
            bar.begin("x")
            bar.update(3)
    assert log.getvalue() == ""
    with pytest.raises(TypeError):
        make_progress("yes", total=3)  # type: ignore[arg-type]


def test_terminal_gets_a_tqdm_bar():
    term = _Terminal()
    with make_progress(True, total=4, desc="frames", unit="frame", stream=term) as bar:
        assert bar.mode == "bar"
        bar.begin("a.png")
        bar.update(4)
    assert "frames" in term.getvalue() and "4/4" in term.getvalue()
