#!/usr/bin/env bash
# Create (or reuse) .venv with everything hg_plugin needs, on a fresh machine.
#
# Why each step is the way it is (see also README "Environment"):
#   * torch/torchvision come from the package registry: the machine-local CPU wheel
#     of torch has no matching torchvision, and MMPose imports torchvision.
#   * mmcv 2.1.0 is compiled from its sdist with ops (mmpose.models imports mmcv.ops);
#     mmcv 2.2 is refused by mmpose 1.3.2 / mmdet 3.3.0. pip caches the built wheel.
#   * mmpose / mmdet are installed --no-deps (their pins drag in chumpy and old mmcv);
#     their real runtime deps are listed explicitly below.
#   * xtcocotools is built from source against numpy 2.
#   * setuptools<70 only while mmcv compiles; then >=77 (torch) and <80.9: mmengine
#     resolves `mmpose::` configs via pkg_resources, which setuptools 82 dropped.
# A stamp file holding the hash of this script, the packaging files and the
# version makes a second run a no-op (a version bump reinstalls the package).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.hg_plugin_env"
WANT=$(sha256sum "$0" setup.py pyproject.toml hg_plugin/version.py | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi
echo "[setup_env] preparing $VENV (first run takes ~15 min: mmcv compiles from source)" >&2
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip_install() {  # quiet, minus the mirror's "Location ... is ignored" noise
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
  return "${PIPESTATUS[0]}"
}
PIP=pip_install
# numpy 2.4 breaks MMPose 1.3.2's visualizer (draw_circles) and xtcocotools'
# mask.decode (NPY_OWNDATA); every install below keeps this pin.
NUMPY="numpy>=2,<2.4"
$PIP "pip>=24" wheel ninja cython "$NUMPY"
# Registry torch, not the machine-local "+cpu" wheel that pip's global find-links
# offers (torchvision's compiled ops cannot load on it). Ignoring the pip config
# files is the only way to drop a find-links set there.
if ! "$VENV/bin/python" -c "import torchvision" 2>/dev/null; then
  PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $PIP "torch==2.13.0" "torchvision==0.28.0"
fi
$PIP "$NUMPY" "mmengine==0.10.7" opencv-python addict packaging Pillow pyyaml yapf \
     json_tricks munkres scipy six terminaltables shapely pycocotools tqdm matplotlib \
     pytest pytest-xdist onnx onnxruntime seaborn tensorboard
if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops" 2>/dev/null; then
  $PIP "setuptools<70"  # what mmcv 2.1.0's setup.py builds with
  MMCV_WITH_OPS=1 MAX_JOBS=2 $PIP --no-build-isolation --no-deps "mmcv==2.1.0"
fi
# torch 2.13 wants setuptools>=77; mmengine needs pkg_resources (gone in 82),
# and from 80.9 on importing it prints a UserWarning on every run.
$PIP "setuptools>=77,<80.9" "$NUMPY"
$PIP --no-deps "mmdet==3.3.0" "mmpose==1.3.2"
# openmim for `mim train mmpose CONFIG`, without its opendatalab/openxlab
# requirement: openxlab pins setuptools 60 (torch needs >= 77) and mim's
# train/test commands never import it.
$PIP --no-deps "openmim==0.3.9" model-index ordered-set
$PIP "$NUMPY" click colorama rich tabulate requests
# MMPose's RTMPose/CSPNeXt/RTMW configs (69) put Albumentation in their
# training pipelines. 1.4.x: they pass CoarseDropout's max_holes/max_height/
# ... arguments, which albumentations 2.0 removed. --no-deps: albumentations
# and albucore ask for opencv-python-headless, a second cv2 over
# opencv-python's; their other requirements are listed.
$PIP --no-deps "albumentations==1.4.24" "albucore==0.0.23"
$PIP "$NUMPY" "pydantic>=2.9.2" "stringzilla>=3.10.4" "simsimd>=5.9.2"
# xtcocotools 1.14.3 from source: its _mask.pyx names np.NPY_OWNDATA, which
# numpy 2's Cython declarations no longer have (NPY_ARRAY_OWNDATA), so the
# compiled module looks it up at run time and mask.decode fails
# ("module 'numpy' has no attribute 'NPY_OWNDATA'") - on every numpy 2.
# Patch that one name and build (seconds).
XTC_OK='import numpy as np; from xtcocotools import mask, coco; \
mask.decode(mask.encode(np.asfortranarray(np.eye(4, dtype=np.uint8))))'
if ! "$VENV/bin/python" -c "$XTC_OK" 2>/dev/null; then
  SRC=$(mktemp -d)
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
       --no-binary :all: --no-build-isolation "xtcocotools==1.14.3" -d "$SRC"
  tar xzf "$SRC"/xtcocotools-1.14.3.tar.gz -C "$SRC"
  sed -i 's/np\.NPY_OWNDATA/np.NPY_ARRAY_OWNDATA/g' \
      "$SRC"/xtcocotools-1.14.3/xtcocotools/_mask.pyx
  $PIP --no-build-isolation --no-deps --force-reinstall "$SRC"/xtcocotools-1.14.3
  rm -rf "$SRC"
  "$VENV/bin/python" -c "$XTC_OK"
fi
$PIP --no-build-isolation --no-deps -e .
NO_ALBUMENTATIONS_UPDATE=1 "$VENV/bin/python" -c "import mmcv.ops, mmpose.models, mmdet, torchvision, hg_plugin" 
echo "$WANT" > "$STAMP"
echo "[setup_env] $VENV ready" >&2
