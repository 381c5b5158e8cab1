"""A mixed config through MMPose's own tools on real images: its
tools/train.py (the config's whole training pipeline, one short epoch of
batch 2, validation with the config's own metric), its tools/test.py on
the checkpoint, and MMPoseInferencer drawing a picture. Each stage is a
process of its own, as a user runs it."""
import json
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict

from mmengine.config import Config

from hg_plugin.config_file import write_config
from hg_plugin.shipped_configs import mmpose_dir

from .samples import first_image, sample_overrides, why_no_samples

STAGES = ('real train', 'val metric', 'test', 'Inferencer')
INFER = '''
import sys, warnings
warnings.simplefilter('ignore')
from mmpose.apis import MMPoseInferencer
cfg, ckpt, image, out, bottomup = sys.argv[1:6]
kw = {} if bottomup == '1' else dict(det_model='whole_image')
inferencer = MMPoseInferencer(pose2d=cfg, pose2d_weights=ckpt, device='cpu',
                              **kw)
result = next(inferencer(image, vis_out_dir=out, show=False))
print('PEOPLE', len(result['predictions'][0]))
'''


def _run(cmd, cwd, timeout, log):
    with open(log, 'w') as f:
        try:
            r = subprocess.run(cmd, cwd=cwd, stdout=f,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f'over {timeout} s'
    with open(log) as f:
        text = f.read()
    if r.returncode:
        lines = [line for line in text.splitlines() if line.strip()]
        return False, (lines[-1] if lines else f'exit {r.returncode}')[:300]
    return True, text


def _metric(log: str) -> str:
    """The first overall metric of the last evaluation summary MMEngine
    logged (its progress lines, ``eta: ...``, and per-part values such as
    MPII's ``Head PCK`` are skipped)."""
    summaries = [line for line in log.splitlines()
                 if re.search(r'\((?:val|test)\)', line) and 'eta:' not in line]
    for line in reversed(summaries):
        pairs = re.findall(r'(\S+(?: PCK)?): (-?[\d.]+|nan)',
                           line.split(']', 2)[-1])
        overall = [(k, v) for k, v in pairs if ' ' not in k
                   and k not in ('data_time', 'time')]
        if overall:
            return f'{overall[0][0]} {overall[0][1]}'
    return ''


def real_stages(mixed_path: str, work: str, timeout: int = 900) -> Dict:
    """Run the stages for the mixed config ``mixed_path`` in ``work`` (a
    folder name without dots: MMPoseInferencer reads such a name as a
    file); returns {stage: 'ok ...' or 'failed: reason'} and stops at the
    first failed stage."""
    work, mixed_path = osp.abspath(work), osp.abspath(mixed_path)
    os.makedirs(work, exist_ok=True)
    cfg = Config.fromfile(mixed_path)
    reason = why_no_samples(cfg)
    if reason:
        return {stage: f'no samples: {reason}' for stage in STAGES}
    run_cfg = osp.join(work, 'sweep_run.py')
    write_config(run_cfg, sample_overrides(cfg, work),
                 base=osp.abspath(mixed_path), imports=(), comments=[
                     'the mixed config on the real samples (tools/_sweep)'])
    python, stages = sys.executable, {}
    ok, out = _run([python, mmpose_dir('tools', 'train.py'), run_cfg,
                    '--work-dir', osp.join(work, 'train')], work, timeout,
                   osp.join(work, 'train.log'))
    stages['real train'] = 'ok' if ok else f'failed: {out}'
    if not ok:
        return stages
    metric = _metric(out)
    stages['val metric'] = metric or 'failed: no metric in the log'
    ckpt = osp.join(work, 'train', 'epoch_1.pth')
    ok, out = _run([python, mmpose_dir('tools', 'test.py'), run_cfg, ckpt,
                    '--work-dir', osp.join(work, 'test')], work, timeout,
                   osp.join(work, 'test.log'))
    stages['test'] = (_metric(out) or 'ok') if ok else f'failed: {out}'
    if not ok:
        return stages
    bottomup = cfg.model.type == 'BottomupPoseEstimator'
    ds_type = cfg.val_dataloader.dataset.type
    pictures = osp.join(work, 'pictures')
    ok, out = _run([python, '-c', INFER, run_cfg, ckpt,
                    first_image(ds_type, work), pictures,
                    '1' if bottomup else '0'], work, timeout,
                   osp.join(work, 'inferencer.log'))
    drawn = ok and any(f.endswith(('.jpg', '.png', '.jpeg'))
                       for f in os.listdir(pictures)) \
        if osp.isdir(pictures) else False
    people = re.search(r'PEOPLE (\d+)', out) if ok else None
    if drawn and people:
        stages['Inferencer'] = f'ok ({people[1]} people drawn)'
    else:
        stages['Inferencer'] = 'failed: ' + (out if not ok else
                                             'no picture written')
    with open(osp.join(work, 'stages.json'), 'w') as f:
        json.dump(stages, f)
    return stages
