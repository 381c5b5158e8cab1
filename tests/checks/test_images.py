"""Every image a config's datasets name exists and begins like an image,
checked before the model is built (hg_plugin.checks.images)."""
import json

from mmengine.config import Config

from hg_plugin.checks import (find_unreadable_images, missing_images_message,
                              why_unreadable)
from tests.conftest import make_mpii_root, mpii_records, sample_dir


def test_what_counts_as_an_image(tmp_path):
    jpg = sample_dir('mpii') / '005808361.jpg'
    png = next(sample_dir('rhd').glob('*.png'))
    assert why_unreadable(str(jpg)) is None
    assert why_unreadable(str(png)) is None
    (tmp_path / 'e.jpg').write_bytes(b'')
    (tmp_path / 't.jpg').write_text('hello, not an image')
    assert why_unreadable(str(tmp_path / 'e.jpg')) == 'empty (0 bytes)'
    assert why_unreadable(str(tmp_path / 't.jpg')).startswith(
        "not an image (starts with b'hello, n'")
    assert why_unreadable(str(tmp_path / 'gone.jpg')) == 'missing'


def config(root, loader='train_dataloader'):
    return Config({loader: dict(dataset=dict(
        type='MpiiDataset', data_root=f'{root}/',
        ann_file='annotations/mpii_train.json',
        data_prefix=dict(img='images/')))})


def test_missing_and_unreadable_images_are_named_with_their_count(tmp_path):
    recs = mpii_records()[:3]
    images = {r['image']: (sample_dir('mpii') / r['image']).read_bytes()
              for r in recs}
    images[recs[2]['image']] = b'text, renamed .jpg'
    del images[recs[1]['image']]
    root = make_mpii_root(tmp_path / 'mpii', recs, images)
    cfg = config(root)
    found = list(find_unreadable_images(cfg, ['train_dataloader']))
    assert len(found) == 1
    loader, ann, bad = found[0]
    assert [(p.rsplit('/', 1)[-1], why.split(' (')[0]) for p, why in bad] == [
        (recs[1]['image'], 'missing'), (recs[2]['image'], 'not an image')]
    line = missing_images_message(cfg, ['train_dataloader'])
    assert line.startswith(f'error: {root}/annotations/mpii_train.json '
                           '(train_dataloader) names 2 missing or unreadable '
                           'image(s); first: ')
    assert recs[1]['image'] in line and '(missing)' in line
    assert len(line.splitlines()) == 1


def test_coco_files_name_the_images_their_annotations_use(tmp_path):
    src = json.loads((sample_dir('coco') / 'test_coco.json').read_text())
    (tmp_path / 'ann.json').write_text(json.dumps(src))
    cfg = Config(dict(val_dataloader=dict(dataset=dict(
        type='CocoDataset', data_root=str(sample_dir('coco')) + '/',
        ann_file=str(tmp_path / 'ann.json'), data_prefix=dict(img='')))))
    assert missing_images_message(cfg, ['val_dataloader']) is None
    used = {a['image_id'] for a in src['annotations']}
    src['images'].append(dict(id=-1, file_name='unused.jpg'))  # no records
    src['images'].append(dict(id=-2, file_name='gone.jpg'))
    src['annotations'].append(dict(src['annotations'][0], image_id=-2, id=-2))
    (tmp_path / 'ann.json').write_text(json.dumps(src))
    line = missing_images_message(cfg, ['val_dataloader'])
    assert 'names 1 missing or unreadable image(s)' in line
    assert 'gone.jpg (missing)' in line and used
