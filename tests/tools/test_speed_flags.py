"""The speed flags of tools/train.py and tools/test.py, as a user runs them
on the 5 real MPII samples (numbers are checked in tests/models; here: the
flags reach the model and the runs finish)."""
import re

from tests.conftest import REPO
from tests.tools.test_train_test_resume import options, run

CFG = REPO / 'configs' / 'hg2_mpii_256.py'


def losses(log):
    return [float(v) for v in re.findall(r'\] *lr: \S+ .*? loss: (\S+)', log)]


def test_amp_channels_last_with_cp_compiled_train_then_compiled_test(
        mpii_root, tmp_path):
    work = tmp_path / 'w'
    # aot_eager: compiles through AOTAutograd like inductor, in seconds
    r = run('tools/train.py', CFG, '--work-dir', work, '--amp',
            '--channels-last', '--with-cp', '--compile', 'aot_eager',
            *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "torch.compile({'backend': 'aot_eager'}) applied" in r.stdout
    log = (next(work.glob('*/vis_data/config.py'))).read_text()
    assert "type='DeviceAmpOptimWrapper'" in log and "dtype='bfloat16'" in log
    assert "type='CompileNetworkHook'" in log
    assert 'channels_last=True' in log and 'with_cp=True' in log
    assert len(losses(r.stdout)) == 3
    r = run('tools/test.py', CFG, work / 'epoch_1.pth', '--work-dir',
            tmp_path / 't', '--amp', '--channels-last', '--compile', 'eager',
            *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'PCK@0.1' in r.stdout
    assert "torch.compile({'backend': 'eager'}) applied" in r.stdout


def test_stagewise_backward_trains(mpii_root, tmp_path, hg2_epoch1):
    r = run('tools/train.py', CFG, '--work-dir', tmp_path / 's',
            '--no-validate', '--stagewise-backward', *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # same first-iteration loss (same forward), then a different objective
    a, b = losses(hg2_epoch1.log), losses(r.stdout)
    assert len(a) == len(b) == 3 and abs(a[0] - b[0]) < 1e-4 and a != b


def test_speed_flag_on_another_backbone_is_one_line(tmp_path):
    r = run('tools/train.py', REPO / 'configs' / 'mix' /
            'hg8-cpmhead_coco_256x192.py', '--with-cp',
            '--cfg-options', 'model.backbone.type=ResNet', cwd=REPO)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        "error: --with-cp needs a StackedHourglass backbone "
        "(model.backbone.type is 'ResNet')"]
    r = run('tools/train.py', CFG, '--stagewise-backward', '--compile')
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        'error: --compile does not reach --stagewise-backward training (it '
        'drives the stacks one by one, outside the compiled forward): drop '
        'one of the two flags']


def test_eager_compile_with_cp_is_one_line(mpii_root, tmp_path):
    r = run('tools/train.py', CFG, '--work-dir', tmp_path, '--with-cp',
            '--compile', 'eager', *options(mpii_root, 1))
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and \
        "compile backend 'eager' runs checkpointed stacks" in last
    assert not list(tmp_path.glob('*.pth'))


def test_preset_fast_trains_and_says_what_it_chose(mpii_root, tmp_path):
    r = run('tools/train.py', CFG, '--work-dir', tmp_path, '--preset',
            'fast', '--no-validate', *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    line = next(s for s in r.stdout.splitlines()
                if s.startswith('--preset fast: '))
    assert 'channels-last memory format' in line
    assert len(losses(r.stdout)) == 3
