#!/usr/bin/env bash
# The ablation grid on a lent GPU machine, as one command (torch preinstalled,
# no package index): carry .device_site (make_site.sh) and run
#   bash benchmarks/device/ablation.sh OUT_DIR [SECONDS]
# Trains tools/ablation.py's default grid with --device cuda and --preset
# fast (PRESET=; fp16 autocast and channels-last on a GPU) (JOBS trainings
# at a time, default 4, each with the machine's cores / JOBS - 1 loader
# workers) for at most SECONDS (default 480), then writes
# OUT_DIR/ablation.{md,json,png} from every run that finished (--cached-only:
# what the time limit cut is listed as not answered yet) and
# OUT_DIR/runs.tgz, the finished runs' result.json files (unpacked into a
# work dir's runs/, a later invocation reuses them).
# Check of the script on the CPU, with the carried packages in place of the
# installed ones (a one-minute --quick grid; measures nothing):
#   DEVICE=cpu QUICK=1 PY=.venv/bin/python bash benchmarks/device/ablation.sh /tmp/abl_dry
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR=${1:?usage: ablation.sh OUT_DIR [SECONDS]}
LIMIT=${2:-480}
mkdir -p "$OUT_DIR"
source benchmarks/device/env.sh
WORK=${WORK:-/tmp/ablation_$DEVICE}
ARGS="--device $DEVICE --work-dir $WORK --jobs ${JOBS:-4} ${QUICK:+--quick}"
PRESET=${PRESET-fast}  # (PRESET= trains without one)
[ -n "$PRESET" ] && ARGS="$ARGS --preset $PRESET"
{ [ "$DEVICE" = cuda ] && nvidia-smi --query-gpu=name,memory.total \
    --format=csv,noheader; nproc; } > "$OUT_DIR/env.txt"
# the grid, cut at LIMIT seconds (the cached runs survive the cut)
timeout "$LIMIT" $PY tools/ablation.py $ARGS --out "$WORK/report"
echo "grid: exit $? after ${SECONDS} s"
$PY tools/ablation.py $ARGS --cached-only --out "$OUT_DIR"
(cd "$WORK" && find runs -name result.json 2>/dev/null |
  tar czf "$OUT_DIR/runs.tgz" -T -)  # (timeout stops the trainings too)
tail -n 30 "$OUT_DIR/ablation.md"
