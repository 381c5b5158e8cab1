#!/usr/bin/env bash
# Build .device_site/: the pure-Python OpenMMLab stack (and its small pure-
# Python dependencies) copied from .venv, for a GPU machine whose image has
# torch, torchvision, numpy, opencv, scipy, matplotlib, onnx(runtime) but
# no OpenMMLab packages and no package index. Compiled parts stay behind
# (see sitecustomize.py). Used by benchmarks/device/run.sh and ablation.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
SP=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
OUT=.device_site
rm -rf "$OUT" && mkdir -p "$OUT"
for pkg in mmengine mmcv mmpose mmdet addict termcolor yapf yapf_third_party \
           platformdirs json_tricks terminaltables munkres six.py \
           _pytest pytest pluggy iniconfig; do  # (pytest: the CUDA tests)
  (cd "$SP" && find "$pkg" \( -name '__pycache__' -o -name '.mim' \) -prune \
     -o -type f ! -name '*.so' -print) | while read -r f; do
    mkdir -p "$OUT/$(dirname "$f")" && cp "$SP/$f" "$OUT/$f"
  done
done
# the zoo configs the benchmark builds (mmpose::body_2d_keypoint/...)
# (and every metafile: mmengine reads them all to resolve mmpose:: paths)
mkdir -p "$OUT/mmpose/.mim" && cp "$SP/mmpose/.mim/model-index.yml" "$OUT/mmpose/.mim/"
(cd "$SP/mmpose/.mim" && { find configs/_base_ configs/body_2d_keypoint \
   -type f -name '*.py'; find configs -type f -name '*.yml'; }) |
 while read -r f; do
  mkdir -p "$OUT/mmpose/.mim/$(dirname "$f")"
  cp "$SP/mmpose/.mim/$f" "$OUT/mmpose/.mim/$f"
done
# MMPose's own train/test scripts, which the ablation grid's trainings run
mkdir -p "$OUT/mmpose/.mim/tools"
cp "$SP/mmpose/.mim/tools/train.py" "$SP/mmpose/.mim/tools/test.py" \
   "$OUT/mmpose/.mim/tools/"
cp benchmarks/device/sitecustomize.py "$OUT/"
du -sh "$OUT"
