"""The qca modules form a layered package: a module never imports one above it (no import cycles)."""

import ast
from pathlib import Path

import monai_angio.qca as qca

#: layer of every module; a module may import only modules of a strictly lower layer
LAYERS = {
    "centerline": 0,
    "diameter": 1,
    "edges": 0,
    "catheter_profile": 1,
    "calibration": 2,
    "branches": 2,
    "gaps": 2,
    "stenosis": 3,
    "lesions": 4,
    "pipeline": 5,
    "report": 6,
}


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            yield node.module.split(".")[0], node.lineno


def test_no_upward_or_cyclic_imports():
    root = Path(qca.__file__).parent
    mods = {p.stem for p in root.glob("*.py")} - {"__init__"}
    assert mods <= set(LAYERS), f"add new modules to LAYERS: {sorted(mods - set(LAYERS))}"
    for m in sorted(mods):
        for dep, line in _imports(root / f"{m}.py"):
            assert LAYERS[dep] < LAYERS[m], f"{m}.py:{line} imports .{dep} (same or higher layer)"


def test_public_names_unchanged():
    from monai_angio.qca import analyze_stenosis, find_lesions, pipeline

    assert analyze_stenosis is pipeline.analyze_stenosis
    assert callable(find_lesions)
    for name in ("analyze_stenosis", "analyze_profile", "StenosisReport", "find_lesions", "write_report"):
        assert name in qca.__all__
