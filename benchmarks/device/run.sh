#!/usr/bin/env bash
# The GPU benchmark, as one command on a lent GPU machine (torch preinstalled,
# no package index): carry .device_site (make_site.sh) and run
#   bash benchmarks/device/run.sh OUT_DIR
# Results: OUT_DIR/{benchmark.md,json,csv,png}, OUT_DIR/profile.md, env.txt.
# Every finished row is written at once, most important first: whatever the
# machine's time limit cuts, the rows so far remain.
# The same steps on the CPU, small (hg1 for hg8, batch 1, one repeat, no
# bf16 compile, which inductor takes over 15 minutes to build on 2 CPU
# cores; checks the script, measures nothing worth keeping):
#   DEVICE=cpu DRY=1 bash benchmarks/device/run.sh /tmp/bench_dry
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${1:-benchmarks/cuda}
mkdir -p "$OUT_DIR"
source benchmarks/device/env.sh
if [ -n "${DRY:-}" ]; then
  HG=hg1 B=1 WARMUP=0 REPEAT=1 TIMEOUT=900 SAMPLES=4
else
  # batch 64 fills an H100 for training in bf16; the same for every model
  HG=hg8 B=${B:-64} WARMUP=3 REPEAT=10 TIMEOUT=300 SAMPLES=300
fi
{ [ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total,\
driver_version,clocks.max.sm --format=csv,noheader
  $PY -c 'import torch, sys; print(sys.version);
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn",
      torch.backends.cudnn.version())'; } | tee "$OUT_DIR/env.txt"
$PY -c 'import mmpose.models, hg_plugin' || exit 1
COMMON="--device $DEVICE --batch $B --train-batch $B --warmup $WARMUP \
  --repeat $REPEAT --memory-batch 0 --timeout $TIMEOUT --out-dir $OUT_DIR"
bench() { $PY tools/benchmark.py $COMMON "$@"; }
# 1. where the time goes first, hg8 vs HG52 (channels-last + AMP): busy vs
#    idle time, kernels and syncs per step (profile.md)
[ -z "${DRY:-}" ] && $PY tools/benchmark.py --device $DEVICE --profile \
  --train-batch $B --out-dir "$OUT_DIR" > /dev/null
# 2. the speed question: hg8 and MMPose's HG52 trained with the fast preset
#    (channels-last, the device's AMP dtype, cudnn.benchmark; no compile:
#    hg8 has no conv bias before a BN since 0.3), training alone; then both
#    at equal plain / cl-amp settings
bench --train-only --models $HG $([ -z "${DRY:-}" ] && echo hourglass52-mpii) \
  --model-variants fast --variants --data-samples 0
bench --append --models $HG $([ -z "${DRY:-}" ] && echo hourglass52-mpii) \
  --model-variants plain cl-amp --variants --data-samples 0
# 2b. Speed III's captured step: first its test on this GPU (the captured
#     replay equals its eager run; the suite skips it without CUDA), then
#     hg8 and HG52 captured beside their eager twin at the same settings
#     (bf16, channels-last, cudnn.benchmark); the fused BN + ReLU (hg8's
#     own) alone and with the capture, after its CUDA tests
$PY -m pytest -q -p no:cacheprovider tests/engine/test_captured_train_step.py \
  tests/models/test_fused_bn_relu.py 2>&1 | tail -n 15 \
  | tee "$OUT_DIR/speed3_tests.txt"
bench --append --train-only --models $HG \
  $([ -z "${DRY:-}" ] && echo hourglass52-mpii) \
  --model-variants eager-bf16 captured-bf16 --variants --data-samples 0
bench --append --train-only --models $HG --variants-model $HG \
  --model-variants --variants fused-bf16 captured-fused-bf16 \
  --data-samples 0
# 3. hg8's other options (its compile rows were measured on the H200:
#    slower; they are left out to keep the device's minutes for the rest)
bench --append --models $HG --variants-model $HG --model-variants \
  --data-samples 0 --variants nchw reference-layout \
  $([ "$DEVICE" = cuda ] && echo amp-fp16 cuda-graph) fold-bn-amp
# 4. the other zoo models at the same settings, and the data pipeline
[ -z "${DRY:-}" ] && bench --append --models res50-mpii hrnet-w32-mpii \
  --model-variants plain cl-amp fast --variants --data-samples $SAMPLES
tail -n 40 "$OUT_DIR/benchmark.md"
