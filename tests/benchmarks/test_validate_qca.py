"""Tests of ``benchmarks/validate_qca.py``: phantom overrides and a two-phantom cath-lab run."""

from __future__ import annotations

import pytest

from tests.benchmarks import load_script

vq = load_script("validate_qca")


def test_phantom_overrides_are_typed_and_checked() -> None:
    assert vq._phantom_overrides(["guidewire_prob=0", "catheter_french=[6]"]) == {
        "guidewire_prob": 0,
        "catheter_french": [6],
    }
    with pytest.raises(SystemExit, match="no_such_field"):
        vq._phantom_overrides(["no_such_field=1"])
    with pytest.raises(SystemExit, match="FIELD=VALUE"):
        vq._phantom_overrides(["guidewire_prob"])


def test_cathlab_run_prints_its_table(capsys) -> None:
    """Two 256 px cath-lab phantoms without a guidewire (an override): the table reports the calibration."""
    assert vq.main(["--n", "2", "--size", "256", "--seed", "700000", "--cathlab", "--no-auto", "--methods", "edge",
                    "--phantom", "guidewire_prob=0"]) == 0
    out = capsys.readouterr().out
    assert "| metric (2 phantoms, 256 px) |" in out and "catheter calibration error" in out
