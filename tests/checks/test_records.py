"""Annotation records are checked when the data is loaded: every class of
bad record is named (file, record, image, field) before a run starts, or
left out with a count when asked (invalid_records='skip')."""
import copy
import json
import time

import pytest

from hg_plugin.checks.records import (check_coco_file,
                                             check_mpii_file)
from tests.conftest import (REPO, make_mpii_root, mpii_cfg_options,
                            mpii_records, sample_dir)
from tests.tools.test_train_test_resume import SMALL, run

BAD = [  # (change to record 2, what the line must say); its joints 0 and 5
    # are not visible
    (lambda r: r['joints'][3].__setitem__(0, float('nan')),
     'field "joints"[3]'),
    (lambda r: r['joints'][4].__setitem__(1, -40.0),
     'visible joint at a negative coordinate'),
    (lambda r: r.__setitem__('scale', 0), 'field "scale" 0'),
    (lambda r: r.__setitem__('scale', -1.5), 'field "scale" -1.5'),
    (lambda r: r.__setitem__('center', [float('nan'), 3.0]),
     'field "center"'),
    (lambda r: r['joints'][1].__setitem__(0, 99999.0),
     'visible joint far outside the'),
    (lambda r: r['joints'].pop(), 'field "joints" has 15 entries'),
    (lambda r: r.__setitem__('image', 'frame_a.jpg'),
     'needs a numeric file name'),
]


def write(tmp_path, records, name='ann.json'):
    path = tmp_path / name
    path.write_text(json.dumps(records))
    return path


@pytest.mark.parametrize('change,said', BAD)
def test_each_bad_mpii_record_is_named(tmp_path, change, said):
    records = mpii_records()
    change(records[2])
    problems = check_mpii_file(str(write(tmp_path, records)), 16,
                               str(sample_dir('mpii')))
    assert len(problems) == 1 and problems[0][0] == 2, problems
    assert said in problems[0][2], problems


def test_real_records_pass_and_invisible_joints_may_be_anywhere(tmp_path):
    records = mpii_records()
    assert check_mpii_file(str(sample_dir('mpii') / 'test_mpii.json'), 16,
                           str(sample_dir('mpii'))) == []
    records[0]['joints_vis'][4] = 0
    records[0]['joints'][4] = [-1.0, -1.0]  # MPII's "not annotated"
    assert check_mpii_file(str(write(tmp_path, records)), 16) == []


def test_fewer_head_boxes_than_records(tmp_path):
    problems = check_mpii_file(str(write(tmp_path, mpii_records())), 16,
                               num_headboxes=3)
    assert problems == [(3, '', 'the head-box file has 3 boxes for 5 '
                         'records')]


def test_coco_keypoints_of_the_wrong_length_or_nan(tmp_path):
    data = json.loads((sample_dir('coco') / 'test_coco.json').read_text())
    data['annotations'][1]['keypoints'] = data['annotations'][1][
        'keypoints'][:-3]
    data['annotations'][2]['keypoints'][4] = float('nan')
    problems = check_coco_file(str(write(tmp_path, data)), 17)
    assert [(i, why.split(' has ')[0]) for i, _, why in problems][:1] == [
        (1, 'field "keypoints"')]
    assert 'NaN' in problems[1][2] and problems[1][0] == 2


def test_check_cost_at_mpii_size(tmp_path):
    """About MPII's 25k training records: reported, not timed as a test."""
    records = [copy.deepcopy(r) for r in mpii_records() * 5000]
    path = write(tmp_path, records)
    start = time.perf_counter()
    assert check_mpii_file(str(path), 16, str(sample_dir('mpii'))) == []
    print(f'checked {len(records)} records in '
          f'{time.perf_counter() - start:.2f} s')


def test_train_stops_before_the_model_or_skips_with_a_count(tmp_path):
    records = mpii_records()
    records[1]['scale'] = -2.0
    root = make_mpii_root(tmp_path / 'root', records)
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(root).items()]
    cfg = REPO / 'configs' / 'hg1_mpii_256.py'
    r = run('tools/train.py', cfg, '--work-dir', tmp_path / 'w',
            '--no-validate', '--cfg-options', *opts, *SMALL,
            'train_cfg.max_epochs=1')
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines == [
        f'error: {root}/annotations/mpii_train.json: record 1 (image '
        f'{records[1]["image"]}): field "scale" -2.0: needs a finite number '
        "> 0 (1 invalid record(s)); fix the file, or set "
        "invalid_records='skip' (--cfg-options invalid_records=skip) to "
        'leave them out'], r.stderr
    assert not list((tmp_path / 'w').glob('**/*.pth'))
    r = run('tools/train.py', cfg, '--work-dir', tmp_path / 'w',
            '--no-validate', '--cfg-options', *opts, *SMALL,
            'train_cfg.max_epochs=1', 'invalid_records=skip')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'left out 1 invalid record(s) of 5' in r.stdout
    kept = json.loads((tmp_path / 'w' / 'checked_annotations' /
                       'train_dataloader_mpii_train.json').read_text())
    assert len(kept) == 4


def test_mmpose_own_train_py_stops_at_an_invalid_record(tmp_path):
    """The check is part of ConfigCheckHook, so MMPose's tools/train.py
    stops too (before the first step), with the same words."""
    import mmpose
    from pathlib import Path
    records = mpii_records()
    records[3]['joints'][2][0] = float('nan')
    root = make_mpii_root(tmp_path / 'root', records)
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(root).items()]
    tool = Path(mmpose.__file__).parent / '.mim' / 'tools' / 'train.py'
    r = run(tool, REPO / 'configs' / 'hg1_mpii_256.py', '--work-dir',
            tmp_path / 'w', '--cfg-options', *opts, *SMALL,
            'train_cfg.max_epochs=1')
    assert r.returncode != 0
    assert (f'ValueError: {root}/annotations/mpii_train.json: record 3 '
            f'(image {records[3]["image"]}): field "joints"[2]') in r.stderr
    assert 'Epoch(train)' not in r.stdout + r.stderr
