"""tools/train.py never overwrites an earlier run and never resumes from
nothing without saying so (WorkDirGuardHook, also under MMPose's tools)."""
import hashlib

from tests.conftest import REPO
from tests.tools.test_train_test_resume import options, run

CFG = REPO / 'configs' / 'hg1_mpii_256.py'


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_second_fresh_run_in_a_used_work_dir_is_refused(mpii_root, tmp_path):
    work = tmp_path / 'w'
    r = run('tools/train.py', CFG, '--work-dir', work, '--no-validate',
            *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    ckpt = work / 'epoch_1.pth'
    before = (digest(ckpt), (work / 'last_checkpoint').read_text())
    r = run('tools/train.py', CFG, '--work-dir', work, '--no-validate',
            *options(mpii_root, 1))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and \
        'already holds checkpoints of an earlier run (epoch_1.pth)' in \
        lines[0] and '--resume' in lines[0], r.stderr
    assert (digest(ckpt), (work / 'last_checkpoint').read_text()) == before


def test_resume_in_an_empty_work_dir_is_one_line_unless_if_possible(
        mpii_root, tmp_path):
    r = run('tools/train.py', CFG, '--work-dir', tmp_path / 'typo',
            '--resume', '--no-validate', *options(mpii_root, 1))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'no checkpoint to resume from in' in \
        lines[0] and 'if-possible' in lines[0], r.stderr
    assert not list((tmp_path / 'typo').glob('*.pth'))
    r = run('tools/train.py', CFG, '--work-dir', tmp_path / 'new',
            '--resume', 'if-possible', '--no-validate',
            *options(mpii_root, 1))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'training from scratch (resume if possible)' in r.stdout
    assert (tmp_path / 'new' / 'epoch_1.pth').is_file()
