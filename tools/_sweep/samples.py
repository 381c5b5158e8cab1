"""Real samples per dataset family (tests/data/, MMPose's own test data, see
its README) and the config options that point a config's datasets and
evaluators at them."""
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

from hg_plugin.checks import dataset_configs
from hg_plugin.datasets import approx_head_boxes, write_headboxes
from hg_plugin.mix.config_walk import pretrained_inits

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data')
# dataset type -> (folder in tests/data, annotation file)
SAMPLES = {
    'MpiiDataset': ('mpii', 'test_mpii.json'),
    'CocoDataset': ('coco', 'test_coco.json'),
    'CocoWholeBodyDataset': ('coco', 'test_coco_wholebody.json'),
    'CocoWholeBodyFaceDataset': ('coco', 'test_coco_wholebody.json'),
    'CocoWholeBodyHandDataset': ('coco', 'test_coco_wholebody.json'),
    'CrowdPoseDataset': ('crowdpose', 'test_crowdpose.json'),
    'AicDataset': ('aic', 'test_aic.json'),
    'ExlposeDataset': ('exlpose', 'test_exlpose.json'),
    'HumanArtDataset': ('humanart', 'test_humanart.json'),
    'JhmdbDataset': ('jhmdb', 'test_jhmdb_sub1.json'),
    'AP10KDataset': ('ap10k', 'test_ap10k.json'),
    'AnimalKingdomDataset': ('ak', 'test_animalkingdom.json'),
    'AnimalPoseDataset': ('animalpose', 'test_animalpose.json'),
    'LocustDataset': ('locust', 'test_locust.json'),
    'ZebraDataset': ('zebra', 'test_zebra.json'),
    'OneHand10KDataset': ('onehand10k', 'test_onehand10k.json'),
    'Rhd2DDataset': ('rhd', 'test_rhd.json'),
    'FreiHandDataset': ('freihand', 'test_freihand.json'),
    'WFLWDataset': ('wflw', 'test_wflw.json'),
    'Face300WDataset': ('300w', 'test_300w.json'),
    # MMPose ships no 300W-LP sample; 300W's, in the same COCO-style format
    # with the same 68 keypoints, stands in
    'Face300WLPDataset': ('300w', 'test_300w.json'),
    'AFLWDataset': ('aflw', 'test_aflw.json'),
    'COFWDataset': ('cofw', 'test_cofw.json'),
    'LapaDataset': ('lapa', 'test_lapa.json'),
    'DeepFashionDataset': ('fld', 'test_fld.json'),
    'DeepFashion2Dataset': ('deepfasion2', 'deepfasion2.json'),
}
NO_SAMPLES = {
    'CombinedDataset': 'trains on several datasets combined (body7, '
                       'COCO+AIC, ...); each has its own samples, the '
                       'combination is not laid out here',
    'PoseTrack18Dataset': 'PoseTrack18 reads video frames through its '
                          'own folder layout; MMPose\'s sample is not '
                          'laid out here',
}


def why_no_samples(cfg) -> Optional[str]:
    """None when every dataset of the config has samples, else why not."""
    for loader in ('train_dataloader', 'val_dataloader'):
        ds = cfg[loader]['dataset']
        if ds.get('type') in NO_SAMPLES:
            return NO_SAMPLES[ds['type']]
        if ds.get('type') not in SAMPLES:
            return f'no real samples for {ds.get("type")}'
    return None


def data_root(dataset_type: str, work: str) -> Tuple[str, str]:
    """(data_root, annotation file) of ``dataset_type``'s samples; a few
    families get the folder layout their file names assume, made in
    ``work`` (links, head boxes)."""
    folder, ann = SAMPLES[dataset_type]
    root = osp.join(DATA, folder)
    if dataset_type == 'HumanArtDataset':  # file names: HumanArt/images/...
        layout = osp.join(work, 'humanart_root')
        os.makedirs(osp.join(layout, 'HumanArt'), exist_ok=True)
        for target, link in ((root, osp.join(layout, 'HumanArt', 'images')),
                             (osp.join(root, ann), osp.join(layout, ann))):
            if not osp.lexists(link):
                os.symlink(target, link)
        root = layout
    return root, osp.join(root, ann)


def first_image(dataset_type: str, work: str) -> str:
    root, ann = data_root(dataset_type, work)
    with open(ann) as f:
        data = json.load(f)
    name = data[0]['image'] if isinstance(data, list) else \
        data['images'][0]['file_name']
    return osp.join(root, name)


def _mixes_images(ds: dict) -> bool:
    """Whether a dataset's pipeline mixes in other images of the dataset."""
    return any(t.get('type') in ('Mosaic', 'YOLOXMixUp')
               for t in ds.get('pipeline') or [])


def sample_overrides(cfg, work: str) -> Dict:
    """Config keys (to merge into ``cfg``) that point every dataset and
    evaluator at the samples: training batches of 2, no workers,
    ground-truth person boxes, one short epoch with validation and a
    checkpoint; a training pipeline that mixes in other images (Mosaic,
    MixUp) is the config's own ``train_pipeline_stage2``."""
    out: Dict = dict(
        train_cfg=dict(max_epochs=1, val_interval=1),
        default_hooks=dict(checkpoint=dict(interval=1),
                           logger=dict(interval=1)))
    # a kept head's pretrained part (DEKR's rescoring net) would download
    # at start; this machine has no network: random weights instead
    if cfg.model.get('teacher_pretrained'):  # a distiller's teacher: the
        # same, a random teacher (the distillation losses still train)
        out['model'] = dict(teacher_pretrained=None)
    for key, _ in pretrained_inits(cfg.model.to_dict(), 'model'):
        node = out
        parts = key.split('.')
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = None
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not cfg.get(loader):
            continue
        ds = next(iter(dataset_configs(cfg[loader]['dataset'])))
        root, ann = data_root(ds['type'], work)
        dataset = dict(data_root=root + '/', ann_file=ann,
                       data_prefix=dict(img=''))
        if ds.get('bbox_file'):
            dataset['bbox_file'] = None  # ground-truth boxes
        if ds['type'] == 'MpiiDataset' and loader != 'train_dataloader':
            boxes = osp.join(work, 'mpii_gt_val.mat')
            with open(ann) as f:
                write_headboxes(boxes, approx_head_boxes(json.load(f)))
            dataset['headbox_file'] = boxes
        if loader == 'train_dataloader' and _mixes_images(ds) and \
                cfg.get('train_pipeline_stage2'):
            # Mosaic / YOLOXMixUp draw other images of the dataset and can
            # index one past the end of a few samples (MMPose 1.3): the
            # config's own second stage, which has neither
            dataset['pipeline'] = list(cfg.train_pipeline_stage2)
        out[loader] = dict(num_workers=0, persistent_workers=False,
                           dataset=dataset)
        if loader == 'train_dataloader':  # evaluation keeps the config's
            out[loader]['batch_size'] = 2  # (bottom-up heads decode one)
        for name in ('val_evaluator', 'test_evaluator'):
            evaluator = cfg.get(name)
            if isinstance(evaluator, dict) and evaluator.get('ann_file'):
                out[name] = dict(ann_file=ann)
            elif isinstance(evaluator, (list, tuple)):
                out[name] = [dict(e, ann_file=ann) if e.get('ann_file')
                             else dict(e) for e in evaluator]
    return out
