"""``benchmarks/evaluate_real.py`` is the ``monai-angio evaluate`` command under its old path."""

from __future__ import annotations

from monai_angio.apps import evaluate as app
from monai_angio.bundle import evaluation
from tests.benchmarks import load_script

ev = load_script("evaluate_real")


def test_script_is_the_cli_command() -> None:
    assert ev.main is app.main and ev.run is app.run and ev.evaluate_real is app.evaluate_real
    assert ev.zoom_case is evaluation.zoom_case and ev.CSV_COLUMNS == evaluation.CSV_COLUMNS
    for name in ev.__all__:
        assert hasattr(ev, name)


def test_script_help_lists_the_options(capsys) -> None:
    import pytest

    with pytest.raises(SystemExit) as e:
        ev.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--zoom", "--n-holdout", "--layout", "--no-contact-sheet", "--allow-inside-repo"):
        assert opt in out
