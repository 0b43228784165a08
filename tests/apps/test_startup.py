"""Start-up cost of the command line, checked by what gets imported (behaviour, not timing; issue 9).

``monai-angio --help`` and ``monai-angio qca`` must not pay for ignite, MONAI or torch: each check runs in a fresh
interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from tests.qca.analytic import label_with_catheter

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("ignite", "monai", "torch")


def _imported_after(code: str) -> list:
    """The heavy modules in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cli_parser_and_help_import_no_torch_monai_ignite():
    code = (
        "import contextlib, io\n"
        "import monai_angio.apps.cli as cli\n"
        "cli.build_parser()\n"
        "for argv in (['--help'], ['segment', '--help'], ['qca', '--help'], ['train', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            cli.main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
    )
    assert _imported_after(code) == []


def test_public_names_stay_importable_without_torch():
    code = (
        "from monai_angio.apps.segment import expand_inputs, output_paths, parse_frames, resolve_bundle, segment_files\n"
        "from monai_angio.transforms import read_angiogram, count_frames, SUPPORTED_EXTENSIONS\n"
        "from monai_angio.data import make_datalist, folder_datalist\n"
        "from monai_angio.bundle import resolve_bundle, validate_metadata\n"
    )
    assert _imported_after(code) == []


def test_qca_of_one_frame_imports_no_torch_monai_ignite(tmp_path):
    lab, _ = label_with_catheter(size=96, spacing_mm=0.3, stenosis_percent=50)
    iio.imwrite(tmp_path / "case.png", np.where(lab > 0, 80, 200).astype(np.uint8))
    iio.imwrite(tmp_path / "case_label.png", lab)
    code = (
        "import contextlib, io\n"
        "from monai_angio.apps.cli import main\n"
        f"argv = ['qca', {str(tmp_path / 'case.png')!r}, '--mask', {str(tmp_path / 'case_label.png')!r},"
        f" '--catheter', '6F', '--out', {str(tmp_path / 'out')!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(argv) == 0\n"
    )
    assert _imported_after(code) == []
    assert (tmp_path / "out" / "case_report.json").is_file()
