"""``kill -9`` at any point, then ``--resume``: the same losses and weights,
bit for bit, as the uninterrupted run - with the shipped MPII config's
augmentation (flip, rotation +-30 deg, scale 0.75-1.25) on, shuffled order,
DataLoader workers (persistent) and 2 gloo processes. Without
``SeededSampler``/``SeedAugmentation`` these runs differ after the resume."""
import json
import os
import signal
import subprocess
import sys
import time

import torch
from mmengine.config import Config

from tests.conftest import REPO, free_port

SHIPPED = f'{REPO}/configs/hg8_mpii_256.py'


def small_pipeline():
    """The shipped train pipeline at 128x128 input / 32x32 heatmaps."""
    codec = dict(type='MSRAHeatmap', input_size=(128, 128),
                 heatmap_size=(32, 32), sigma=2)
    pipeline = Config.fromfile(SHIPPED).train_pipeline
    for t in pipeline:
        if t['type'] == 'TopdownAffine':
            t['input_size'] = codec['input_size']
        if t['type'] == 'GenerateTarget':
            t['encoder'] = codec
    assert [t['type'] for t in pipeline[:1]] == ['SeedAugmentation']
    assert {'RandomFlip', 'RandomBBoxTransform'} <= {
        t['type'] for t in pipeline}
    return codec, pipeline


def write_config(path, root, *, by_epoch, workers=0, seed=None):
    codec, pipeline = small_pipeline()
    if by_epoch:  # the shipped loop: epochs, a checkpoint after each
        loop = 'train_cfg = dict(max_epochs=6, val_interval=1000)\n' \
               'default_hooks = dict(logger=dict(interval=1), ' \
               'checkpoint=dict(interval=1, save_best=None))'
    else:  # checkpoints mid-epoch: resume skips into the epoch
        loop = "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', " \
               'max_iters=12, val_interval=1000)\n' \
               'default_hooks = dict(logger=dict(interval=1), checkpoint=' \
               'dict(interval=4, by_epoch=False, save_best=None))\n' \
               'log_processor = dict(by_epoch=False, window_size=1)'
    path.write_text(f'''
_base_ = ['{REPO}/configs/hg2_mpii_256.py']
codec = {codec!r}
model = dict(backbone=dict(feat_channels=32), head=dict(decoder=codec),
             test_cfg=dict(flip_test=False))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = []
{loop}
{'' if seed is None else f'randomness = dict(seed={seed})'}
train_dataloader = dict(
    batch_size=2, num_workers={workers}, persistent_workers={workers > 0},
    dataset=dict(data_root='{root}/', pipeline={pipeline!r}))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root='{root}/',
                 headbox_file='{root}/annotations/mpii_gt_val.mat'))
test_dataloader = val_dataloader
''')
    return path


def losses(work):
    """{step: loss} from every run folder's scalars.json (full precision)."""
    out = {}
    for f in sorted(work.glob('*/vis_data/scalars.json')):  # resumed last
        for line in f.read_text().splitlines():
            rec = json.loads(line)
            if 'loss' in rec:
                out[rec['step']] = rec['loss']
    return out


def weights(path):
    return torch.load(path, weights_only=False)['state_dict']


def run(cmd, **kw):
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                       timeout=600, **kw)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r


def kill_after(cmd, work, ckpt, **kw):
    """Start ``cmd``, SIGKILL its whole process group once ``ckpt`` exists;
    return the newest checkpoint left behind."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True,
                            **kw)
    deadline = time.time() + 300
    while not (work / ckpt).exists() and time.time() < deadline:
        time.sleep(0.02)
    # torchrun starts its workers in sessions of their own: kill every
    # process that was given this work dir, then the launcher's group
    for pid in os.listdir('/proc'):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                if str(work).encode() in f.read():
                    os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)  # let killed torchrun workers go
    saved = sorted(work.glob('*_*.pth'), key=lambda p: int(p.stem.split('_')[1]))
    assert saved, 'killed before the first checkpoint'
    return saved[-1]


def assert_resumed_from(work, ckpt):
    """The newest run in ``work`` started from ``ckpt``: MMEngine logged
    its epoch and iteration, and the run logged no step at or before it
    (the pre-kill steps were not trained again)."""
    meta = torch.load(ckpt, weights_only=False)['meta']
    runs = sorted(p for p in work.iterdir()
                  if (p / 'vis_data' / 'scalars.json').is_file())
    assert len(runs) >= 2, 'no second (resumed) run'
    log = next(runs[-1].glob('*.log')).read_text()
    assert f"resumed epoch: {meta['epoch']}, iter: {meta['iter']}" in log
    steps = [json.loads(line)['step'] for line in
             (runs[-1] / 'vis_data' / 'scalars.json').read_text()
             .splitlines() if 'loss' in line]
    assert steps and min(steps) > meta['iter'], (min(steps), meta['iter'])


def assert_same_run(ref, resumed, final):
    expected, got = losses(ref), losses(resumed)
    later = [s for s in got if s in expected]
    assert later and max(later) == max(expected)
    for step in later:  # bit-identical losses
        assert got[step] == expected[step], (step, got[step], expected[step])
    a, b = weights(ref / final), weights(resumed / final)
    for k in a:  # and bit-identical weights
        assert torch.equal(a[k], b[k]), k


def train(config, work, *extra):
    return [sys.executable, 'tools/train.py', str(config), '--work-dir',
            str(work), *extra]


def test_one_process_with_persistent_workers_and_no_seed_given(
        mpii_root, tmp_path):
    # no randomness.seed: the run draws one, saves it in its checkpoints,
    # and --resume must continue with it (ExactResumeHook)
    config = write_config(tmp_path / 'cfg.py', mpii_root, by_epoch=True,
                          workers=2)
    work = tmp_path / 'killed'
    last = kill_after(train(config, work), work, 'epoch_2.pth')
    assert last.name != 'epoch_6.pth'
    seed = torch.load(last, weights_only=False)['meta']['seed']
    run(train(config, work, '--resume'))
    assert_resumed_from(work, last)
    run(train(config, tmp_path / 'ref', '--cfg-options',
              f'randomness.seed={seed}'))
    assert_same_run(tmp_path / 'ref', work, 'epoch_6.pth')


def test_iteration_loop_killed_mid_epoch(mpii_root, tmp_path):
    config = write_config(tmp_path / 'cfg.py', mpii_root, by_epoch=False,
                          seed=3)
    run(train(config, tmp_path / 'ref'))
    work = tmp_path / 'killed'
    last = kill_after(train(config, work), work, 'iter_4.pth')
    for p in work.glob('iter_*.pth'):  # never half-written
        torch.load(p, weights_only=False)
    assert not list(work.glob('*.tmp*'))
    assert int(last.stem.split('_')[1]) % 3  # 3 iterations/epoch: mid-epoch
    run(train(config, work, '--resume'))
    assert_resumed_from(work, last)
    assert_same_run(tmp_path / 'ref', work, 'iter_12.pth')


def test_two_gloo_processes(mpii_root, tmp_path):
    config = write_config(tmp_path / 'cfg.py', mpii_root, by_epoch=True,
                          workers=1, seed=5)
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port())

    def dist(work, *extra):
        return ['bash', 'tools/dist_train.sh', str(config), '2',
                '--work-dir', str(work), *extra]

    r = run(dist(tmp_path / 'ref'), env=env)
    assert 'Distributed training: True' in r.stdout + r.stderr
    work = tmp_path / 'killed'
    last = kill_after(dist(work), work, 'epoch_2.pth', env=env)
    assert last.name != 'epoch_6.pth'
    run(dist(work, '--resume'), env=dict(env, PORT=free_port()))
    assert_resumed_from(work, last)
    assert_same_run(tmp_path / 'ref', work, 'epoch_6.pth')
