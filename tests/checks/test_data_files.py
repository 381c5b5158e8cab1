from mmengine.config import Config

from hg_plugin.checks import find_missing_data, missing_data_message
from tests.conftest import REPO


def coco_cfg():
    return Config.fromfile(str(REPO / 'configs' / 'hg8_coco_256x192.py'))


def test_reports_each_missing_input_in_order(coco_workspace, monkeypatch):
    monkeypatch.chdir(coco_workspace)
    cfg = coco_cfg()
    assert find_missing_data(cfg, ['train_dataloader', 'val_dataloader']) \
        is None
    cfg.val_evaluator.ann_file = 'data/coco/annotations/nope.json'
    path, key, hint = find_missing_data(cfg, ['val_dataloader'])
    assert (path, key) == ('data/coco/annotations/nope.json',
                           'val_evaluator.ann_file')
    cfg.val_dataloader.dataset.bbox_file = 'dets.json'
    assert find_missing_data(cfg, ['val_dataloader'])[:2] == (
        'dets.json', 'val_dataloader.dataset.bbox_file')
    cfg.val_dataloader.dataset.data_prefix.img = 'imgs/'
    assert find_missing_data(cfg, ['val_dataloader'])[:2] == (
        'data/coco/imgs/', 'val_dataloader.dataset.data_prefix.img')


def test_message_is_one_line_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    msg = missing_data_message(coco_cfg(), ['train_dataloader'])
    assert '\n' not in msg and msg.startswith('error: data not found: ')
    assert 'train_dataloader.dataset.ann_file' in msg and 'COCO' in msg
