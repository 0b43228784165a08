"""Decathlon-style datalists: relative paths, case-wise splits, missing files."""

from __future__ import annotations

import json

import pytest

from monai_angio.data import make_datalist, split_cases
from monai_angio.errors import AngioInputError


def test_split_cases():
    ids = [f"case_{i:03d}" for i in range(10)]
    s = split_cases(ids, 0.2, 0.1, seed=1)
    assert len(s["training"]) == 7 and len(s["validation"]) == 2 and len(s["test"]) == 1
    assert sorted(s["training"] + s["validation"] + s["test"]) == ids
    assert split_cases(ids, 0.2, 0.1, seed=1) == s
    assert split_cases(ids, 0.2, 0.1, seed=2) != s
    assert len(split_cases(["a"], 0.5, 0.4)["training"]) == 1
    with pytest.raises(AngioInputError):
        split_cases(ids, 0.7, 0.5)


def test_make_datalist_relative_and_grouped(tmp_path):
    (tmp_path / "cines").mkdir()
    entries = []
    for i in range(5):
        f = tmp_path / "cines" / f"case_{i}.nii.gz"
        f.write_bytes(b"x")
        for k in range(3):
            entries.append({"image": str(f), "label": f"cines/case_{i}.nii.gz", "frame": k, "case": f"case_{i}"})
    out = make_datalist(entries, tmp_path / "datalist.json", 0.2, 0.2, seed=0)
    on_disk = json.loads((tmp_path / "datalist.json").read_text())
    assert on_disk == out
    seen = {}
    for split, items in out.items():
        for e in items:
            assert not e["image"].startswith("/") and (tmp_path / e["image"]).exists()
            assert seen.setdefault(e["case"], split) == split  # all frames of a case in one split
    assert sum(len(v) for v in out.values()) == 15
    assert len(out["validation"]) == 3 and len(out["test"]) == 3
    with pytest.raises(FileExistsError):
        make_datalist(entries, tmp_path / "datalist.json")
    with pytest.raises(AngioInputError, match="missing"):
        make_datalist([{"image": "nope.png"}], tmp_path / "other.json")
    fixed = make_datalist(entries, tmp_path / "d2.json", split={"training": [], "validation": [], "test": ["case_0"]})
    assert {e["case"] for e in fixed["test"]} == {"case_0"} and len(fixed["training"]) == 12
