"""Swap the stacked hourglass into any MMPose 2D config.

:func:`mix_overrides` reads a config (path, ``mmpose::`` name or
:class:`~mmengine.config.Config`) and returns the keys that put
``StackedHourglass`` in place of its backbone, with everything the swap
implies; :func:`mixed_config` applies them, :func:`write_mixed_config`
writes a config that inherits the original (``tools/mix_config.py``), and
:func:`train_step_check` runs one forward + backward on a synthetic batch
built by the config's own target pipeline.

What the swap implies:

* the hourglass gives one 1/4-resolution map per stack. ``head='stacked'``
  (the default for heatmap heads) uses :class:`StackedHeatmapHead`
  (intermediate supervision with the original loss); ``head='keep'`` keeps
  MMPose's head on the last stack's features (``out_type='features'``) with
  ``in_channels`` set and its up-sampling (deconvolutions) removed;
* a neck that selects, concatenates or rescales the branches of a
  multi-branch backbone (``FeatureMapProcessor``) is removed; pooling necks
  stay;
* heads that need the feature-map size (``RTMCCHead``, ``SimCCHead``,
  ``DSNTHead``...) get input/4; a heatmap codec at another resolution gets
  input/4 (targets and decoding together);
* the hourglass depth is the largest (<= 4) that halves the input evenly;
  bottom-up resizing uses a ``size_factor`` that is a multiple of its stride
  (``4 * 2**depth``);
* keypoint count and flip settings come from the base config.

Configs built on a multi-scale pyramid or a detection head (RTMO,
YOLOX-Pose, ED-Pose, RTMW) cannot take a single 1/4-resolution backbone:
:class:`MixError` says so (:data:`UNSUPPORTED`).
"""
import copy
import os.path as osp
from typing import Dict, List, Tuple, Union

from mmengine.config import Config

HEATMAP_HEADS = ('HeatmapHead', 'ViPNASHead', 'CPMHead', 'MSPNHead')
# heads that flatten or integrate a feature map of a known size
FEATUREMAP_SIZE_HEADS = ('RTMCCHead', 'SimCCHead', 'DSNTHead',
                         'IntegralRegressionHead')
# heads whose up-sampling is switched off on 1/4-resolution features
DECONV_HEADS = ('HeatmapHead', 'ViPNASHead', 'SimCCHead', 'DSNTHead',
                'IntegralRegressionHead', 'AssociativeEmbeddingHead')
UNSUPPORTED = {
    'RTMOHead': 'RTMO is a one-stage detector on a 3-level feature pyramid '
                '(HybridEncoder): no single-scale backbone fits',
    'YOLOXPoseHead': 'YOLOX-Pose is a one-stage detector on a feature '
                     'pyramid (YOLOXPAFPN)',
    'EDPoseHead': 'ED-Pose is a DETR-style detector on a multi-scale '
                  'transformer encoder',
    'RTMWHead': 'RTMW fuses two pyramid levels (CSPNeXtPAFPN) in its head',
}
REMOVED_NECKS = ('FeatureMapProcessor', )
KEPT_NECKS = ('GlobalAveragePooling', )
MAX_DEPTH = 4


class MixError(ValueError):
    """A config the hourglass cannot be swapped into, and why."""


def resolve(config: str) -> str:
    """A path for ``config``: a file, or ``mmpose::<path>`` in the installed
    MMPose's configs."""
    if config.startswith('mmpose::'):
        import mmpose
        config = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs',
                          config[len('mmpose::'):])
    if not osp.isfile(config):
        raise MixError(f'config not found: {config}')
    return config


def load(config: Union[str, Config]) -> Config:
    if isinstance(config, Config):
        return copy.deepcopy(config)
    return Config.fromfile(resolve(config))


def hourglass_depth(size) -> int:
    """The largest depth <= 4 for which ``4 * 2**depth`` divides both sides
    (0: none)."""
    for depth in range(MAX_DEPTH, 0, -1):
        if all(int(s) % (4 * 2**depth) == 0 for s in size):
            return depth
    return 0


def num_keypoints(cfg: Config) -> int:
    """From the training dataset's metainfo in the config, else the head's
    output count, else the dataset class's metainfo (some classes choose
    theirs only when built, e.g. DeepFashion's subsets)."""
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.registry import DATASETS
    ds = cfg.train_dataloader.dataset
    if ds.get('metainfo') is not None:
        return parse_pose_metainfo(dict(ds.metainfo))['num_keypoints']
    head = dict(cfg.model.get('head') or {})
    head = dict(head.get('pose_cfg') or head)
    per_keypoint = 3 if (head.get('decoder') or {}).get(
        'heatmap_type') == 'combined' else 1  # UDP: heatmap + x/y offsets
    for key in ('out_channels', 'num_keypoints', 'num_joints'):
        if key in head:
            return head[key] // per_keypoint
    meta = getattr(DATASETS.get(ds.type), 'METAINFO', None)
    if meta is not None:
        return parse_pose_metainfo(dict(meta))['num_keypoints']
    raise MixError('cannot tell the number of keypoints: the training '
                   'dataset has no metainfo and the head no out_channels')


def _default(module_type: str, arg: str):
    """The default of ``arg`` in the registered class's ``__init__``."""
    import inspect

    from mmpose.registry import MODELS
    param = inspect.signature(MODELS.get(module_type).__init__).parameters.get(
        arg)
    return None if param is None else param.default


def _each_dict(node):
    """Every dict inside a config value, outermost first."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _each_dict(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _each_dict(v)


def _codecs(cfg: Config) -> List[dict]:
    """Every codec dict in the config (heads' decoders, GenerateTarget
    encoders)."""
    from mmpose.registry import KEYPOINT_CODECS
    return [d for d in _each_dict(cfg._cfg_dict.to_dict())
            if 'input_size' in d and isinstance(d.get('type'), str)
            and KEYPOINT_CODECS.get(d['type']) is not None]


def _replace(node, old: dict, new: dict):
    """A copy of ``node`` with every dict equal to ``old`` replaced."""
    if isinstance(node, dict):
        if node == old:
            return copy.deepcopy(new)
        return {k: _replace(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, old, new) for v in node]
    if isinstance(node, tuple):
        return tuple(_replace(v, old, new) for v in node)
    return node


def _pretrained(node, key: str):
    """(config key, checkpoint) of every ``init_cfg`` of type Pretrained
    below ``node``."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            yield f'{key}.init_cfg', init.get('checkpoint')
        for k, v in node.items():
            if k != 'init_cfg':
                yield from _pretrained(v, f'{key}.{k}')


def _single_level_targets(node, codec: dict) -> bool:
    """GenerateTarget with a list of encoders (multi-stage heads) -> one
    encoder, ``codec``, in place."""
    changed = False
    for d in list(_each_dict(node)):
        if d.get('type') == 'GenerateTarget' and isinstance(
                d.get('encoder'), (list, tuple)):
            d['encoder'] = copy.deepcopy(codec)
            d.pop('multilevel', None)
            changed = True
    return changed


def _set_size_factor(node, factor: int) -> bool:
    """BottomupResize size factors -> multiples of ``factor``, in place."""
    changed = False
    for d in list(_each_dict(node)):
        old = d.get('size_factor', 32)
        if d.get('type') == 'BottomupResize' and old % factor:
            d['size_factor'] = factor * max(1, old // factor)
            changed = True
    return changed


def mix_overrides(config: Union[str, Config], num_stacks: int = 2,
                  feat_channels: int = 256,
                  head: str = 'auto') -> Tuple[Dict, List[str]]:
    """The top-level keys to merge into ``config`` (``_delete_`` where a
    dict is replaced) and a line per change."""
    cfg = load(config)
    model = cfg.model
    old_head = dict(model.head)
    head_type = old_head['type']
    neck = model.get('neck')
    for part in (head_type, neck.get('type') if neck else None):
        if part in UNSUPPORTED:
            raise MixError(UNSUPPORTED[part])
    if neck and neck.get('type') not in REMOVED_NECKS + KEPT_NECKS:
        raise MixError(f'neck {neck.get("type")} expects a multi-scale '
                       'backbone: no single-scale backbone fits')
    bottom_up = model.type == 'BottomupPoseEstimator'
    decoder = (old_head.get('pose_cfg') or old_head).get('decoder')
    combined = isinstance(decoder, dict) and \
        decoder.get('heatmap_type') == 'combined'
    if head == 'auto':
        head = 'stacked' if head_type in HEATMAP_HEADS and not combined \
            else 'keep'
    if head == 'stacked' and (head_type not in HEATMAP_HEADS or combined):
        what = ('UDP "combined" maps (a heatmap and x/y offsets per '
                'keypoint)' if combined else f'{head_type} outputs')
        raise MixError(f'--head stacked predicts one heatmap per keypoint '
                       f'on every stack, not {what}: use --head keep')
    if head == 'keep' and head_type in ('CPMHead', 'MSPNHead'):
        head = 'stacked'  # multi-stage heads: one stage per stack
    k = num_keypoints(cfg)
    codecs = _codecs(cfg)
    if not codecs:
        raise MixError('no codec with an input_size found in the config')
    codec = decoder if isinstance(decoder, dict) else codecs[0]
    input_size = tuple(codec['input_size'])
    depth = hourglass_depth(input_size)
    if depth == 0:
        raise MixError(f'input size {input_size} is not a multiple of 8: the '
                       'hourglass cannot halve it even once')
    changes = [f'backbone: StackedHourglass(num_stacks={num_stacks}, '
               f'feat_channels={feat_channels}, depth={depth}) in place of '
               f'{model.backbone.type}']
    if depth < MAX_DEPTH:
        changes.append(f'depth {depth}: {input_size} cannot be halved '
                       f'{MAX_DEPTH} times from 1/4')
    quarter = [s // 4 for s in input_size]
    backbone = dict(_delete_=True, type='StackedHourglass',
                    num_stacks=num_stacks, num_keypoints=k,
                    feat_channels=feat_channels, depth=depth,
                    out_type='heatmaps' if head == 'stacked' else 'features')
    new_model = dict(backbone=backbone)
    if neck and neck.get('type') in REMOVED_NECKS:
        new_model['neck'] = None
        changes.append(f'neck {neck["type"]} removed (it serves a '
                       'multi-branch backbone)')
    elif neck and head == 'stacked':
        new_model['neck'] = None
        changes.append(f'neck {neck["type"]} removed (StackedHeatmapHead '
                       'takes the stacks as they are)')

    new_codec = dict(codec)
    if 'heatmap_size' in codec and list(codec['heatmap_size']) != quarter:
        new_codec['heatmap_size'] = tuple(quarter)
        changes.append(f'codec heatmap_size {tuple(codec["heatmap_size"])} '
                       f'-> {tuple(quarter)} (the hourglass predicts at 1/4)')

    if head == 'stacked':
        loss = old_head.get('loss', dict(type='KeypointMSELoss',
                                         use_target_weight=True))
        if isinstance(loss, (list, tuple)):  # multi-stage: the last stage's
            loss = loss[-1]
        new_head = dict(_delete_=True, type='StackedHeatmapHead',
                        num_stacks=num_stacks, out_channels=k,
                        loss=dict(type='MultiStackHeatmapLoss', loss=loss),
                        decoder=new_codec)
        changes.append(f'head: StackedHeatmapHead ({num_stacks} stacks, '
                       f'{loss["type"]} on each) in place of {head_type}')
    else:
        inner = old_head.get('pose_cfg')  # VisPredictHead wraps a pose head
        target = dict(inner) if inner else old_head
        new_head = dict(in_channels=feat_channels)
        if target['type'] in DECONV_HEADS and target.get(
                'deconv_out_channels',
                _default(target['type'], 'deconv_out_channels')):
            new_head.update(deconv_out_channels=None,
                            deconv_kernel_sizes=None)
            changes.append(f'head {target["type"]}: deconvolutions removed '
                           '(features are already at 1/4)')
        if target['type'] in FEATUREMAP_SIZE_HEADS:
            new_head['in_featuremap_size'] = tuple(quarter)
            changes.append(f'head {target["type"]}: in_featuremap_size '
                           f'{tuple(quarter)} (input/4)')
        if 'decoder' in target and new_codec != codec:
            new_head['decoder'] = new_codec
        if inner:
            new_head = dict(pose_cfg=new_head)
        for key, url in _pretrained(old_head, 'model.head'):
            changes.append(f'note: {key} loads pretrained weights from {url} '
                           f'when training starts (needs the network; set '
                           f'{key}=None to start from random weights)')
        changes.append(f'head {head_type} kept on the last stack\'s '
                       f'{feat_channels}-channel features')
    new_model['head'] = new_head
    overrides = dict(model=new_model)
    hooks = [dict(h) for h in cfg.get('custom_hooks') or []]
    overrides['custom_hooks'] = hooks + [
        dict(type=t) for t in ('ConfigCheckHook', 'WeightsOnlyCheckpointHook')
        if t not in {h.get('type') for h in hooks}]

    # dataloaders: the new codec in every pipeline, size factors
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name) is None:
            continue
        loader = cfg[name].to_dict()
        new = _replace(loader, codec, new_codec) if new_codec != codec \
            else copy.deepcopy(loader)
        if head == 'stacked' and _single_level_targets(new, new_codec):
            changes.append(f'{name}: one target per stack from the head\'s '
                           'codec (not multi-level)')
        stride = 4 * 2**depth
        if bottom_up and _set_size_factor(new, stride):
            changes.append(f'{name}: BottomupResize size_factor -> a '
                           f'multiple of {stride}')
        if new != loader:
            overrides[name] = new
    return overrides, list(dict.fromkeys(changes))


def mixed_config(config: Union[str, Config], **kwargs) -> Config:
    """``config`` with the hourglass swapped in (see :func:`mix_overrides`)."""
    cfg = load(config)
    overrides, _ = mix_overrides(cfg, **kwargs)
    cfg.merge_from_dict(overrides)
    cfg.custom_imports = dict(imports=['hg_plugin'],
                              allow_failed_imports=False)
    return cfg


def write_mixed_config(config: str, out: str, **kwargs) -> List[str]:
    """Write a config that inherits ``config`` with the hourglass swapped
    in; returns the changes (also written as comments)."""
    overrides, changes = mix_overrides(config, **kwargs)
    base = config if config.startswith('mmpose::') else osp.abspath(config)
    lines = [f'# {base} with the stacked hourglass swapped in '
             '(tools/mix_config.py). Changes:']
    lines += [f'#   - {c}' for c in changes]
    lines += [f'_base_ = [{base!r}]',
              "custom_imports = dict(imports=['hg_plugin'], "
              'allow_failed_imports=False)']
    from pprint import pformat
    for key, value in overrides.items():
        lines.append(f'{key} = {pformat(value, width=79, sort_dicts=False)}')
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return changes


# --- one synthetic training step -------------------------------------------

TARGET_TRANSFORMS = ('GetBBoxCenterScale', 'TopdownAffine',
                     'BottomupRandomAffine', 'GenerateTarget',
                     'BottomupGetHeatmapMask', 'PackPoseInputs')


def synthetic_sample(cfg: Config, k: int, seed: int = 0) -> dict:
    """One image with one person: what the config's target transforms read
    from an annotation."""
    import numpy as np
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (320, 320, 3), dtype=np.uint8)
    x0, y0, w, h = 60.0, 40.0, 180.0, 240.0
    kpts = np.stack([rng.uniform(x0, x0 + w, k), rng.uniform(y0, y0 + h, k)],
                    -1)[None].astype(np.float32)
    return dict(
        img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2],
        img_id=0, id=0, img_path='synthetic.jpg', category_id=1,
        bbox=np.array([[x0, y0, x0 + w, y0 + h]], np.float32),
        bbox_score=np.ones(1, np.float32), keypoints=kpts,
        keypoints_visible=np.ones((1, k), np.float32),
        dataset_keypoint_weights=np.ones(k, np.float32),
        num_keypoints=k, area=np.array([w * h], np.float32),
        iscrowd=0, segmentation=None, invalid_segs=[],
        flip_indices=list(range(k)))


def train_step_check(cfg: Config, batch_size: int = 2) -> Dict[str, float]:
    """Build the model of ``cfg`` and run one forward + backward on a
    synthetic batch made by the config's own target pipeline (geometry,
    codec, packing); returns the losses."""
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    k = num_keypoints(cfg)
    transforms = [dict(t) for t in cfg.train_dataloader.dataset.pipeline
                  if t['type'].split('.')[-1] in TARGET_TRANSFORMS]
    if not transforms:  # e.g. MMPose's AE config ships no train pipeline
        codec = dict(cfg.model.head.decoder)
        transforms = [dict(type='BottomupRandomAffine',
                           input_size=codec['input_size']),
                      dict(type='GenerateTarget', encoder=codec),
                      dict(type='BottomupGetHeatmapMask'),
                      dict(type='PackPoseInputs')]
    pipeline = Compose(transforms)
    from mmpose.datasets.transforms import PackPoseInputs
    labels = dict(PackPoseInputs.label_mapping_table,
                  keypoint_indices='keypoint_indices')  # AE's tag targets
    samples = [pipeline(dict(synthetic_sample(cfg, k, seed),
                             label_mapping_table=labels))
               for seed in range(batch_size)]
    model = MODELS.build(cfg.model)
    model.train()
    data = model.data_preprocessor(pseudo_collate(samples), training=True)
    losses = model(**data, mode='loss')
    total = sum(v for key, v in losses.items() if 'loss' in key)
    total.backward()
    if not torch.isfinite(total):
        raise MixError(f'non-finite loss {float(total)}')
    return {key: float(v) for key, v in losses.items()}
