"""Bundle layout, ``metadata.json`` validation (our own offline schema) and the ``inference.json`` contract."""

from __future__ import annotations

import copy
import json

import pytest

from monai_angio.bundle import (
    BUNDLE_NAMES,
    bundle_path,
    load_bundle_config,
    load_metadata_schema,
    validate_bundle_metadata,
    validate_metadata,
)

REQUIRED_FILES = [
    "configs/metadata.json",
    "configs/train.json",
    "configs/inference.json",
    "configs/evaluate.json",
    "configs/multi_gpu_train.json",
    "configs/logging.conf",
    "docs/README.md",
    "LICENSE",
]


def _meta(name: str) -> dict:
    return json.loads((bundle_path(name) / "configs" / "metadata.json").read_text())


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_layout(name: str) -> None:
    root = bundle_path(name)
    missing = [f for f in REQUIRED_FILES if not (root / f).is_file()]
    assert not missing, f"{name}: missing {missing}"
    assert (root / "models").is_dir()
    for f in (root / "configs").glob("*.json"):
        json.loads(f.read_text())  # every config is valid JSON
    readme = (root / "docs" / "README.md").read_text()
    for needed in ("monai.bundle run", "configs/train.json", "multi_gpu_train.json", "ckpt_export", "## Limitations",
                   "## References", "--dataset_dir"):
        assert needed in readme, f"{name} README lacks {needed!r}"


CHANNELS = {
    "xca_artery_catheter_efficientunetpp": {"0": "background", "1": "artery", "2": "catheter"},  # design.md labels
    "xca_vessel_unet3plus": {"0": "background", "1": "vessel"},  # one sigmoid channel: its label map's values
    "xca_temporal_cenet": {"0": "background", "1": "artery"},
    "xca_major_vessel_unet": {"0": "background", "1": "major artery"},
}


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_metadata_valid(name: str) -> None:
    assert validate_bundle_metadata(name) == []
    meta = _meta(name)
    assert meta["network_data_format"]["outputs"]["pred"]["channel_def"] == CHANNELS[name]


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_metadata_matches_network(name: str) -> None:
    """``num_channels`` of the metadata equal the network's in/out channels in ``inference.json``."""
    meta = _meta(name)
    parser = load_bundle_config(name, "inference")
    fmt = meta["network_data_format"]
    assert parser.get_parsed_content("network_def#out_channels") == fmt["outputs"]["pred"]["num_channels"]
    assert parser.get_parsed_content("network_def#in_channels") == fmt["inputs"]["image"]["num_channels"]


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_inference_contract(name: str) -> None:
    """design.md: network_def, preprocessing from LoadAngiogramd on ``image``, inferer, postprocessing with
    SaveImaged, bundle_root, and the checkpoint at ``$@bundle_root + '/models/model.pt'``."""
    cfg = json.loads((bundle_path(name) / "configs" / "inference.json").read_text())
    for key in ("network_def", "preprocessing", "inferer", "postprocessing", "bundle_root", "handlers", "evaluator"):
        assert key in cfg, f"{name}: inference.json lacks {key}"
    first = cfg["preprocessing"]["transforms"][0]
    assert first["_target_"].endswith("LoadAngiogramd") and first["keys"] in ("image", ["image"])
    inferers = (
        "monai_angio.bundle.ImageOnlyInferer", "monai_angio.bundle.MultiScaleInferer", "SimpleInferer",
        "SlidingWindowInferer",
    )
    assert cfg["inferer"]["_target_"] in inferers
    # MONAI Deploy's operator: the postprocessing without its final squeeze, derived from the one list
    assert cfg["postprocessing"]["transforms"][-1]["_target_"] == "SqueezeDimd"
    assert cfg["postprocessing_channel_first"]["transforms"] == "$@postprocessing.transforms[:-1]"
    assert any(t["_target_"] == "SaveImaged" for t in cfg["postprocessing"]["transforms"])
    loaders = [h for h in cfg["handlers"] if h["_target_"] == "CheckpointLoader"]
    assert loaders and loaders[0]["load_path"] == "$@bundle_root + '/models/model.pt'"


def test_validator_rejects_bad_metadata() -> None:
    good = _meta(BUNDLE_NAMES[0])
    assert validate_metadata(good) == []

    bad = copy.deepcopy(good)
    del bad["monai_version"]
    assert any("monai_version" in e for e in validate_metadata(bad))

    bad = copy.deepcopy(good)
    bad["version"] = "9.9.9"  # newer than every changelog entry
    assert any("changelog" in e for e in validate_metadata(bad))

    bad = copy.deepcopy(good)
    bad["version"] = "v1"
    assert any("does not match" in e for e in validate_metadata(bad))

    bad = copy.deepcopy(good)
    bad["network_data_format"]["outputs"]["pred"]["num_channels"] = 2  # 3 entries in channel_def
    assert any("channel_def has 3 entries" in e for e in validate_metadata(bad))

    # a one-channel (sigmoid) output may list its label map's values; any other mismatch stays an error
    binary = copy.deepcopy(good)
    binary["network_data_format"]["outputs"]["pred"]["num_channels"] = 1
    binary["network_data_format"]["outputs"]["pred"]["channel_def"] = {"0": "background", "1": "vessel"}
    assert validate_metadata(binary) == []
    binary["network_data_format"]["outputs"]["pred"]["channel_def"] = {"0": "vessel", "1": "background"}
    assert any("channel_def has 2 entries" in e for e in validate_metadata(binary))

    bad = copy.deepcopy(good)
    bad["network_data_format"]["inputs"]["image"]["dtype"] = "float"
    assert any("dtype" in e for e in validate_metadata(bad))

    bad = copy.deepcopy(good)
    del bad["network_data_format"]["inputs"]["image"]["is_patch_data"]
    assert any("is_patch_data" in e for e in validate_metadata(bad))

    bad = copy.deepcopy(good)
    bad["references"] = []
    assert any("references" in e for e in validate_metadata(bad))


def test_schema_is_our_own_and_lists_model_zoo_fields() -> None:
    schema = load_metadata_schema()
    for field in ("version", "changelog", "monai_version", "pytorch_version", "numpy_version",
                  "required_packages_version", "task", "description", "authors", "copyright", "intended_use",
                  "references", "network_data_format"):
        assert field in schema["required"]
    tensor = schema["definitions"]["tensor"]
    assert set(tensor["required"]) == {"type", "format", "num_channels", "spatial_shape", "dtype", "value_range",
                                       "is_patch_data", "channel_def"}


def test_monai_reads_metadata_properties() -> None:
    """MONAI's own bundle workflow finds the required meta properties (version, monai/pytorch/numpy versions)."""
    from monai.bundle import ConfigWorkflow

    for name in BUNDLE_NAMES:
        root = bundle_path(name)
        wf = ConfigWorkflow(config_file=str(root / "configs" / "inference.json"),
                            meta_file=str(root / "configs" / "metadata.json"), logging_file=False,
                            workflow_type="infer")
        wf.initialize()
        assert wf.version == _meta(name)["version"]
        assert wf.monai_version and wf.pytorch_version and wf.numpy_version
        assert wf.channel_def == _meta(name)["network_data_format"]["outputs"]["pred"]["channel_def"]


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_monai_verify_metadata_offline(name: str) -> None:
    """The README's ``python -m monai.bundle verify_metadata ... --filepath ../metadata_schema.json``, in-process:
    MONAI's own validator (jsonschema) accepts every bundle against the schema shipped in the repository."""
    from monai.bundle import verify_metadata

    root = bundle_path(name)
    verify_metadata(meta_file=str(root / "configs" / "metadata.json"), filepath=str(root.parent / "metadata_schema.json"))
