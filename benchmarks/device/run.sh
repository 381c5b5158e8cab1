#!/usr/bin/env bash
# The GPU benchmark, as one command on a lent GPU machine (torch preinstalled,
# no package index): carry .device_site (make_site.sh) and run
#   bash benchmarks/device/run.sh OUT_DIR
# Results: OUT_DIR/{benchmark.md,json,csv,png}, OUT_DIR/profile.md, env.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${1:-benchmarks/cuda}
mkdir -p "$OUT_DIR"
export PYTHONPATH=$PWD/.device_site PYTHONUNBUFFERED=1
PY=${PY:-python3}
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm \
    --format=csv,noheader; $PY -c 'import torch, sys; print(sys.version);
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn",
      torch.backends.cudnn.version())'; } | tee "$OUT_DIR/env.txt"
$PY -c 'import mmpose.models, hg_plugin' || exit 1
B=${B:-64}  # fills an H100 for training in bf16; the same for every model
COMMON="--device cuda --batch $B --train-batch $B --warmup 3 --repeat 10 \
  --memory-batch 0 --timeout 300 --out-dir $OUT_DIR"
bench() { $PY tools/benchmark.py $COMMON "$@"; }
# most important first: whatever a time limit cuts, the files so far remain
# 1. hg8 and MMPose's HG52 at equal settings, and hg8's options
bench --models hg8 hourglass52-mpii --model-variants plain cl-amp \
  --data-samples 0 \
  --variants nchw reference-layout amp-fp16 cuda-graph fold-bn-amp
# 2. the fast preset (with torch.compile: minutes of compilation each)
bench --append --models hg8 --model-variants fast --variants --data-samples 0
bench --append --models hourglass52-mpii --model-variants fast --variants \
  --data-samples 0
# 3. where the time goes, hg8 vs HG52 (channels-last + AMP)
$PY tools/benchmark.py --device cuda --profile --train-batch $B \
  --out-dir "$OUT_DIR" > /dev/null
# 4. the other zoo models at the same settings, and the data pipeline
bench --append --models res50-mpii hrnet-w32-mpii \
  --model-variants plain cl-amp fast --variants --data-samples 300
tail -n 40 "$OUT_DIR/benchmark.md"
