"""``multi_gpu_train.json`` under ``torchrun --nproc_per_node 2`` with the gloo backend on CPU."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bundles.conftest import IMAGE_SIZE, copy_bundle

NAME = "xca_artery_catheter_efficientunetpp"


@pytest.mark.slow
def test_torchrun_two_ranks_gloo(synth_dir: Path, tmp_path: Path) -> None:
    root = copy_bundle(NAME, tmp_path)
    out_dir = tmp_path / "out"
    # test-only finaliser: every rank reports rank, world size, iterations and device before leaving the group
    extra = tmp_path / "report_ranks.json"
    extra.write_text(json.dumps({"finalize": [
        "$open(os.path.join(@output_dir, f'rank{dist.get_rank()}.txt'), 'w').write(' '.join(str(v) for v in "
        "(dist.get_rank(), dist.get_world_size(), @train#trainer.state.iteration, @device)))",
        "$dist.is_initialized() and dist.barrier()",  # no rank leaves the group while another still uses it
        "$dist.is_initialized() and dist.destroy_process_group()",
    ]}))
    configs = [str(root / "configs" / "train.json"), str(root / "configs" / "multi_gpu_train.json"), str(extra)]
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1", "--nproc_per_node", "2",
        "-m", "monai.bundle", "run",
        "--config_file", repr(configs),
        "--meta_file", str(root / "configs" / "metadata.json"),
        "--logging_file", str(root / "configs" / "logging.conf"),
        "--bundle_root", str(root), "--dataset_dir", str(synth_dir), "--output_dir", str(out_dir),
        "--backend", "gloo", "--epochs", "1", "--batch_size", "1", "--val_batch_size", "1",
        "--num_workers", "0", "--image_size", str(IMAGE_SIZE), "--amp", "False",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "terminate called without an active exception" in proc.stderr:
        # A rank aborted in torch's C++ teardown after its work was done (seen 3 times in about 10 full-suite runs
        # under parallel load, never alone; the finaliser now meets at a barrier first). One fresh run, which must
        # pass whole: a real failure fails twice.
        shutil.rmtree(out_dir, ignore_errors=True)
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    n_train = len(json.loads((synth_dir / "datalist.json").read_text())["training"])
    reports = sorted(out_dir.glob("rank*.txt"))
    assert [p.name for p in reports] == ["rank0.txt", "rank1.txt"]
    for i, p in enumerate(reports):
        rank, world, iterations, device = p.read_text().split()
        assert (int(rank), int(world), device) == (i, 2, "cpu")
        assert int(iterations) == -(-n_train // 2)  # DistributedSampler: each rank sees half of the cases
    assert (out_dir / "models" / "model.pt").is_file()  # rank 0 saved the (unwrapped) checkpoint
    assert "val_generalized_dice" in proc.stdout + proc.stderr
