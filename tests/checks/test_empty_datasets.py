"""An annotation file with no records, or none that survives
``invalid_records='skip'``, stops the run with one line naming the file -
under our tools/train.py and MMPose's own (numpy's 'need at least one array
to concatenate' named neither file nor cause)."""
import json
import subprocess
import sys
from pathlib import Path

import mmpose

from tests.conftest import REPO, make_mpii_root, mpii_records
from tests.tools.test_train_test_resume import options, run

CFG = REPO / 'configs' / 'hg2_mpii_256.py'
MMPOSE_TRAIN = Path(mmpose.__file__).parent / '.mim' / 'tools' / 'train.py'


def last_line(r):
    assert r.returncode != 0, r.stdout[-2000:]
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    return lines[-1]


def empty_root(tmp_path):
    root = make_mpii_root(tmp_path / 'root', mpii_records())
    (root / 'annotations' / 'mpii_train.json').write_text('[]')
    return root


def test_empty_training_file_is_one_line_under_our_train(tmp_path):
    root = empty_root(tmp_path)
    r = run('tools/train.py', CFG, '--work-dir', tmp_path / 'w',
            *options(root, 1))
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 1 and len(lines) == 1, r.stderr[-3000:]
    ann = root / 'annotations' / 'mpii_train.json'
    assert lines[0].startswith(f'error: {ann} holds no annotation records')


def test_empty_training_file_is_named_under_mmpose_train(tmp_path):
    root = empty_root(tmp_path)
    r = subprocess.run([sys.executable, str(MMPOSE_TRAIN), str(CFG),
                        '--work-dir', str(tmp_path / 'w'),
                        *options(root, 1)], cwd=REPO, capture_output=True,
                       text=True, timeout=600)
    line = last_line(r)
    ann = root / 'annotations' / 'mpii_train.json'
    assert 'DatasetFileError' in line and \
        f'{ann} holds no annotation records' in line, line


def test_all_records_invalid_with_skip_is_one_line(tmp_path):
    records = mpii_records()
    for rec in records:
        rec['scale'] = -1.0
    root = make_mpii_root(tmp_path / 'root', records)
    r = run('tools/train.py', CFG, '--work-dir', tmp_path / 'w',
            '--no-validate', *options(root, 1), 'invalid_records=skip')
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode == 1 and len(lines) == 1, r.stderr[-3000:]
    assert 'holds no usable records: all 5 are invalid' in lines[0]
    assert json.loads((root / 'annotations' / 'mpii_train.json')
                      .read_text()) == records  # nothing lost
