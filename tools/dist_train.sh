#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG NPROCS [train.py args]
# One process per GPU; without CUDA the processes run on the CPU with gloo
# (tools/_cli/mmpose_config.py: adapt_cfg_to_device). Multi-node: set NNODES, NODE_RANK,
# MASTER_ADDR and PORT.
set -e
CONFIG=$1
NPROCS=$2
# the repository's venv (tools/setup_env.sh) if there is one, else `python`
VENV_PY="$(dirname "$0")/../.venv/bin/python"
[ -x "$VENV_PY" ] || VENV_PY=python
PYTHON=${PYTHON:-$VENV_PY}
"$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROCS" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
