# Sourced by run.sh and ablation.sh, from the repository root: how Python
# runs on a lent GPU machine (its own python3 with torch; no network).
export PYTHONUNBUFFERED=1 NO_ALBUMENTATIONS_UPDATE=1
# the carried OpenMMLab site (make_site.sh), then the repository itself:
# tools/_cli imports hg_plugin before a tool puts the repository on its path
[ -d .device_site ] && export PYTHONPATH=$PWD/.device_site:$PWD
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
