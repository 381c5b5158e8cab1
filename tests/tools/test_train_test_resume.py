"""tools/train.py, tools/test.py and --resume, as a user runs them, on the 5
real MPII samples with a narrow 2-stack hourglass."""
import subprocess
import sys
from pathlib import Path

import mmpose
import torch

from tests.conftest import (REPO, env_without_weights_only_escape,
                            free_port, mpii_cfg_options)

SMALL = [
    'model.backbone.feat_channels=32', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
    'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
    'randomness.seed=0'
]


def run(*args, cwd=REPO):
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def options(root, epochs):
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(root).items()]
    return ['--cfg-options', *opts, *SMALL, f'train_cfg.max_epochs={epochs}']


def test_train_validate_test_and_resume(mpii_root, tmp_path):
    work = tmp_path / 'work'
    cfg = REPO / 'configs' / 'hg2_mpii_256.py'
    r = run('tools/train.py', cfg, '--work-dir', work, *options(mpii_root, 2))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    log = r.stdout + r.stderr
    # intermediate supervision: both stacks' losses in the training log
    assert 'loss_kpt_stack0' in log and 'loss_kpt_stack1' in log
    assert 'acc_pose' in log and 'PCK@0.1' in log  # MpiiPCKAccuracy ran
    ckpt = work / 'epoch_2.pth'
    assert ckpt.is_file() and list(work.glob('best_PCK_epoch_*.pth'))

    r = run('tools/test.py', cfg, ckpt, '--work-dir', tmp_path / 'test',
            *options(mpii_root, 2))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout + r.stderr
    for key in ('Head PCK', 'Shoulder PCK', 'Ankle PCK', 'PCK', 'PCK@0.1'):
        assert key in out

    r = run('tools/train.py', cfg, '--work-dir', work, '--resume', ckpt,
            *options(mpii_root, 3))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'resumed epoch: 2' in r.stdout + r.stderr
    # WeightsOnlyCheckpointHook restored the dataset metainfo exactly
    assert 'dataset metainfo from the resumed' not in r.stdout + r.stderr
    meta = torch.load(work / 'epoch_3.pth')['meta']  # weights-only
    assert (meta['epoch'], meta['iter']) == (3, 9)  # 3 iters/epoch, continued


def test_checkpoints_load_weights_only_without_the_plugin(mpii_root, tmp_path,
                                                         hg2_epoch1):
    """Torch's default weights-only loader reads our checkpoints with
    nothing allowlisted (a process that never imports hg_plugin), so MMPose's
    own publish_model.py works on torch >= 2.6 without an environment
    variable, and MMPose's own test.py evaluates the published file."""
    cfg = REPO / 'configs' / 'hg2_mpii_256.py'
    ckpt = hg2_epoch1.checkpoint
    code = ('import sys, torch\n'
            'assert torch.serialization.get_unsafe_globals_in_checkpoint('
            'sys.argv[1]) == []\n'
            'c = torch.load(sys.argv[1])\n'
            'assert "hg_plugin" not in sys.modules\n'
            'print(sorted(c))')
    env = env_without_weights_only_escape()
    r = subprocess.run([sys.executable, '-c', code, str(ckpt)], env=env,
                       cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "'message_hub', 'meta', 'optimizer'" in r.stdout
    mim = Path(mmpose.__file__).parent / '.mim' / 'tools'
    r = subprocess.run([sys.executable, mim / 'misc' / 'publish_model.py',
                        ckpt, tmp_path / 'hg2.pth'], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    published = next(tmp_path.glob('hg2-*.pth'))
    r = subprocess.run([sys.executable, mim / 'test.py', cfg, published,
                        '--work-dir', tmp_path / 'test',
                        *options(mpii_root, 1)], env=env, cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'PCK@0.1' in r.stdout + r.stderr


def test_dist_test_evaluates_with_two_processes(mpii_root, tmp_path,
                                                hg2_epoch1):
    """tools/dist_test.sh through torchrun on the CPU, from a checkpoint."""
    import os
    cfg = REPO / 'configs' / 'hg2_mpii_256.py'
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port())
    r = subprocess.run(
        ['bash', 'tools/dist_test.sh', str(cfg), str(hg2_epoch1.checkpoint),
         '2', '--work-dir', str(tmp_path / 'test'), *options(mpii_root, 1)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert 'Distributed launcher: pytorch' in out and 'PCK@0.1' in out


def test_missing_mpii_is_one_clear_line(tmp_path):
    r = run(REPO / 'tools' / 'train.py', REPO / 'configs' / 'hg8_mpii_256.py',
            cwd=tmp_path)
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert 'data/mpii/annotations/mpii_train.json' in lines[0]
    assert 'train_dataloader.dataset.ann_file' in lines[0]
    assert 'MPII' in lines[0] and 'Traceback' not in r.stderr


def test_test_tool_refuses_missing_checkpoint(tmp_path):
    r = run('tools/test.py', REPO / 'configs' / 'hg2_mpii_256.py',
            tmp_path / 'nope.pth')
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        f'error: checkpoint not found: {tmp_path / "nope.pth"}']


def test_dist_train_launches_two_processes(mpii_root, tmp_path):
    """tools/dist_train.sh through torchrun; without CUDA it runs on gloo."""
    import os
    work = tmp_path / 'dist'
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port())
    r = subprocess.run(
        ['bash', 'tools/dist_train.sh', 'configs/hg2_mpii_256.py', '2',
         '--work-dir', str(work), *options(mpii_root, 1)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    log = r.stdout + r.stderr
    assert 'Distributed training: True' in log
    assert (work / 'epoch_1.pth').is_file()
