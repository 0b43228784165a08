"""Tests for the ``--include`` / ``--exclude`` glob patterns of :func:`monai_angio.data.inputs.expand_inputs`."""

from __future__ import annotations

from pathlib import Path

from monai_angio.data.inputs import expand_inputs, matches_patterns


def _tree(root: Path) -> Path:
    for rel in ("images/case_000.png", "images/case_001.png", "labels/case_000.png", "case_002.png",
                "case_002_label.png", "run.dcm", "notes.txt"):
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    return root


def _names(files, root: Path) -> list:
    return [f.relative_to(root).as_posix() for f in files]


def test_matches_name_or_relative_path():
    assert matches_patterns("labels/case_000.png", exclude=["labels/*"]) is False
    assert matches_patterns("labels/case_000.png", exclude=["case_000.png"]) is False  # the file name alone
    assert matches_patterns("images/case_000.png", exclude=["labels/*"]) is True
    assert matches_patterns("a/b.dcm", include=["*.dcm"]) is True
    assert matches_patterns("a/b.png", include=["*.dcm"]) is False
    assert matches_patterns("a/B.PNG", include=["*.png"]) is False  # case-sensitive, on every platform


def test_expand_inputs_include_exclude(tmp_path):
    root = _tree(tmp_path / "in")
    assert _names(expand_inputs([root]), root) == [
        "case_002.png", "case_002_label.png", "images/case_000.png", "images/case_001.png", "labels/case_000.png",
        "run.dcm"]  # notes.txt: unsupported
    got = expand_inputs([root], exclude_patterns=["labels/*", "*_label.png"])
    assert _names(got, root) == ["case_002.png", "images/case_000.png", "images/case_001.png", "run.dcm"]
    got = expand_inputs([root], include_patterns=["images/*", "*.dcm"])
    assert _names(got, root) == ["images/case_000.png", "images/case_001.png", "run.dcm"]
    got = expand_inputs([root], include_patterns=["*.png"], exclude_patterns=["*_001.png", "labels/*"])
    assert _names(got, root) == ["case_002.png", "case_002_label.png", "images/case_000.png"]


def test_patterns_do_not_drop_files_named_explicitly(tmp_path):
    root = _tree(tmp_path / "in")
    f = root / "case_002_label.png"
    assert expand_inputs([f], exclude_patterns=["*_label.png"]) == [f]
