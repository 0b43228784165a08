#!/usr/bin/env bash
# Reproduce the shipped default weights (models/model.pt) of xca_artery_catheter_efficientunetpp.
# Run from the repository root on a CUDA machine: bash bundles/xca_artery_catheter_efficientunetpp/scripts/train_default_weights.sh
# Data: 16 x 40 synthetic 512 px phantoms (seeds 100..115, random LCA/RCA trees, 10 % validation per part) = 576 train / 64 val.
set -euo pipefail
D=${DATA_DIR:-/tmp/xca_synth}
B=bundles/xca_artery_catheter_efficientunetpp
mkdir -p "$D"
for k in $(seq 0 15); do
  python3 -m monai_angio synth --n 40 --size 512 --seed $((100 + k)) --tree random --val-fraction 0.1 --test-fraction 0 \
    --out "$D/part$k" > /dev/null &
done
wait
python3 - "$D" <<'PY'
import json, glob, os, sys
D = sys.argv[1]; out = {"training": [], "validation": []}
for p in sorted(glob.glob(D + "/part*/datalist.json")):
    part = os.path.basename(os.path.dirname(p)); d = json.load(open(p))
    for split in out:
        for e in d.get(split, []):
            e = {k: v for k, v in e.items() if k in ("image", "label", "label_vessel", "ground_truth", "case")}
            for k in ("image", "label", "label_vessel", "ground_truth"):
                e[k] = part + "/" + e[k]
            out[split].append(e)
json.dump(out, open(D + "/datalist.json", "w"))
print({k: len(v) for k, v in out.items()})
PY
python3 -m monai.bundle run --config_file $B/configs/train.json --meta_file $B/configs/metadata.json \
  --logging_file $B/configs/logging.conf --bundle_root "${RUN_DIR:-/tmp/run}" --dataset_dir "$D" \
  --epochs 28 --lr_step_size 20 --batch_size 16 --num_workers 12 --amp true
echo "best checkpoint: ${RUN_DIR:-/tmp/run}/models/model.pt"
