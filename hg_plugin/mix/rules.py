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

Configs whose neck takes a feature pyramid (:data:`PYRAMID_NECKS`: RTMO's
``HybridEncoder``, YOLOX-Pose's ``YOLOXPAFPN``, RTMW's ``CSPNeXtPAFPN``,
``ChannelMapper``) get the hourglass's own pyramid
(``out_type='pyramid'``: the last stack's top-down path) at the strides the
replaced backbone gave, with the neck's ``in_channels``; neck, head and
codec stay as they are, and the depth is what the largest stride needs
(refused in one line when the input or the batch resize sizes are not its
multiples). ED-Pose cannot be mixed: MMPose 1.3 cannot train it
(:data:`UNSUPPORTED`).

A distiller (:data:`DISTILLERS`: DWPose) wraps two whole models given as
config files: its student config is mixed and written beside the
distiller's (``*_student.py``) - the hourglass's level at the stride the
student's head reads (DWPose: 32, the top-down path) at the head's
``in_channels``, so the head and the distiller's feature loss (student
vs teacher at stride 32) see the shapes they saw; the teacher stays, its
config resolved in the installed MMPose, and its pretrained weights are
named: a download when the run starts.
"""
import math
import copy
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Tuple, Union

from mmengine.config import Config

from ..checks import (dataset_metainfo, dataset_num_keypoints,
                      metainfo_keypoints, registered_default)
from ..config_file import write_config
from ..model_configs import hourglass_backbone, stacked_heatmap_head
from ..models.backbones import hourglass_stride
from ..pipelines import bottomup_ae_pipeline
from ..shipped_configs import MMPOSE_PREFIX, resolve_config
from .config_walk import (codecs_of, pretrained_inits, replace_dict,
                          set_size_factor, single_level_targets)

HEATMAP_HEADS = ('HeatmapHead', 'ViPNASHead', 'CPMHead', 'MSPNHead')
# heads that flatten or integrate a feature map of a known size
FEATUREMAP_SIZE_HEADS = ('RTMCCHead', 'SimCCHead', 'DSNTHead',
                         'IntegralRegressionHead')
# heads whose up-sampling is switched off on 1/4-resolution features
DECONV_HEADS = ('HeatmapHead', 'ViPNASHead', 'SimCCHead', 'DSNTHead',
                'IntegralRegressionHead', 'AssociativeEmbeddingHead')
UNSUPPORTED = {
    'EDPoseHead': 'ED-Pose: MMPose 1.3 cannot train it (EDPoseHead.loss is '
                  'not implemented); inference only',
}
REMOVED_NECKS = ('FeatureMapProcessor', )
# necks that take a feature pyramid: the hourglass gives its own
PYRAMID_NECKS = ('YOLOXPAFPN', 'HybridEncoder', 'CSPNeXtPAFPN',
                 'ChannelMapper')
# backbones whose out_indices count stages from the stem (stride 2**(i+1))
CSP_BACKBONES = ('CSPDarknet', 'CSPNeXt')
KEPT_NECKS = ('GlobalAveragePooling', )
# pose models that wrap a teacher and a student model, each a config file
DISTILLERS = ('DWPoseDistiller', )
MAX_DEPTH = 4


class MixError(ValueError):
    """A config the hourglass cannot be swapped into, and why."""


def resolve(config: str) -> str:
    """A path for ``config``: a file, or ``mmpose::<path>`` in the installed
    MMPose's configs."""
    path = resolve_config(config)
    if not osp.isfile(path):
        raise MixError(f'config not found: {path}')
    return path


def load(config: Union[str, Config]) -> Config:
    if isinstance(config, Config):
        return copy.deepcopy(config)
    return Config.fromfile(resolve(config))


def hourglass_depth(size) -> int:
    """The largest depth <= 4 for which ``4 * 2**depth`` divides both sides
    (0: none)."""
    for depth in range(MAX_DEPTH, 0, -1):
        if all(int(s) % hourglass_stride(depth) == 0 for s in size):
            return depth
    return 0


def num_keypoints(cfg: Config) -> int:
    """From the training dataset's metainfo in the config, else the head's
    output count, else the dataset class's metainfo (some classes choose
    theirs only when built, e.g. DeepFashion's subsets)."""
    ds = cfg.train_dataloader.dataset
    if ds.get('metainfo') is not None:
        return metainfo_keypoints(ds.metainfo)
    head = dict(cfg.model.get('head') or {})
    head = dict(head.get('pose_cfg') or head)
    per_keypoint = 3 if (head.get('decoder') or {}).get(
        'heatmap_type') == 'combined' else 1  # UDP: heatmap + x/y offsets
    for key in ('out_channels', 'num_keypoints', 'num_joints'):
        if key in head:
            return head[key] // per_keypoint
    found = dataset_num_keypoints(dict(type=ds.type))
    if found is not None:
        return found
    raise MixError('cannot tell the number of keypoints: the training '
                   'dataset has no metainfo and the head no out_channels')


def _choose_head(head: str, old_head: dict) -> str:
    """'stacked' or 'keep' for ``head='auto'|'stacked'|'keep'``."""
    head_type = old_head['type']
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
    if head_type == 'AssociativeEmbeddingHead':
        head = 'ae'  # MMPose 1.3's AE head cannot train (see _ae_head)
    return head


def _refuse_unsupported(model) -> None:
    neck = model.get('neck')
    for part in (model.head['type'], neck.get('type') if neck else None):
        if part in UNSUPPORTED:
            raise MixError(UNSUPPORTED[part])
    if neck and neck.get('type') not in \
            REMOVED_NECKS + KEPT_NECKS + PYRAMID_NECKS:
        raise MixError(f'neck {neck.get("type")} expects a multi-scale '
                       'backbone: no single-scale backbone fits')


def _codec(cfg: Config, old_head: dict) -> dict:
    """The codec the head decodes with (else the config's first)."""
    decoder = (old_head.get('pose_cfg') or old_head).get('decoder')
    codecs = codecs_of(cfg)
    if not codecs:
        raise MixError('no codec with an input_size found in the config')
    return decoder if isinstance(decoder, dict) else codecs[0]


def _backbone_and_neck(model, k: int, depth: int, head: str, num_stacks: int,
                       feat_channels: int, changes: List[str]) -> Dict:
    """``model`` overrides for the backbone and neck."""
    backbone = hourglass_backbone(
        num_stacks, k, feat_channels=feat_channels, depth=depth,
        out_type='features' if head == 'keep' else 'heatmaps')
    if head == 'ae':  # every stack predicts (and re-injects) heatmaps + tags
        old = model.head
        dim = old.get('tag_dim', 1)
        backbone['num_keypoints'] = k * (1 + dim) if old.get(
            'tag_per_keypoint', True) else k + dim
    new_model = dict(backbone=backbone)
    neck = model.get('neck')
    if neck and neck.get('type') in REMOVED_NECKS:
        new_model['neck'] = None
        changes.append(f'neck {neck["type"]} removed (it serves a '
                       'multi-branch backbone)')
    elif neck and head in ('stacked', 'ae'):
        new_model['neck'] = None
        changes.append(f'neck {neck["type"]} removed (StackedHeatmapHead '
                       'takes the stacks as they are)')
    return new_model


def pyramid_strides(model) -> Tuple[int, ...]:
    """The strides of the levels the replaced backbone gave its pyramid
    neck (CSP backbones: 2**(i+1) for each out index; others: the neck's
    levels ending at 32)."""
    n = len(model.neck['in_channels'])
    bb = model.backbone
    if bb.get('type') in CSP_BACKBONES:
        idx = bb.get('out_indices') or registered_default(bb['type'],
                                                          'out_indices')
        if idx and len(idx) == n:
            return tuple(2**(i + 1) for i in idx)
    return tuple(32 // 2**i for i in range(n))[::-1]


def _size_divisors(cfg: Config, input_size) -> List[int]:
    """The sizes a batch can take: the codec's input and every batch
    resize's ``size_divisor``."""
    out = list(input_size)
    for aug in cfg.model.get('data_preprocessor', {}).get(
            'batch_augments') or []:
        if aug.get('size_divisor'):
            out.append(aug['size_divisor'])
    return out


def _pyramid_overrides(cfg: Config, k: int, num_stacks: int,
                       feat_channels: int, changes: List[str]) -> Dict:
    """The hourglass's own pyramid under a pyramid neck: its strides and
    channels from what the replaced backbone gave the neck."""
    model = cfg.model
    strides = pyramid_strides(model)
    chans = list(model.neck['in_channels'])
    depth = int(math.log2(max(strides) // 4))
    need = hourglass_stride(depth)
    sizes = _size_divisors(cfg, tuple(_codec(cfg, dict(model.head))[
        'input_size']))
    if depth < 1 or depth > MAX_DEPTH or any(int(v) % need for v in sizes):
        raise MixError(
            f'a pyramid up to stride {max(strides)} needs an hourglass of '
            f'depth {depth}, whose inputs must be multiples of {need}; this '
            f'config feeds sizes in multiples of {sizes}: raise the '
            'batch resize size_divisor and input size to multiples of '
            f'{need}')
    changes.append(
        f'backbone: StackedHourglass(num_stacks={num_stacks}, feat_channels='
        f'{feat_channels}, depth={depth}, out_type=pyramid) in place of '
        f'{model.backbone.type}: the last stack\'s top-down path at strides '
        f'{strides}, projected to {chans} channels for {model.neck.type}')
    changes.append(f'neck {model.neck.type} and head {model.head.type} kept '
                   'as they are (their own initialisation)')
    return dict(backbone=hourglass_backbone(
        num_stacks, k, feat_channels=feat_channels, depth=depth,
        out_type='pyramid', out_strides=strides, out_channels=chans))


def _stacked_head(old_head: dict, k: int, num_stacks: int, codec: dict,
                  changes: List[str]) -> Dict:
    """StackedHeatmapHead with the original loss on every stack."""
    loss = old_head.get('loss', dict(type='KeypointMSELoss',
                                     use_target_weight=True))
    if isinstance(loss, (list, tuple)):  # multi-stage: the last stage's
        loss = loss[-1]
    changes.append(f'head: StackedHeatmapHead ({num_stacks} stacks, '
                   f'{loss["type"]} on each) in place of {old_head["type"]}')
    return stacked_heatmap_head(
        num_stacks, k, codec, loss=dict(type='MultiStackHeatmapLoss',
                                        loss=loss))


def _ae_head(old_head: dict, k: int, num_stacks: int,
             changes: List[str]) -> Dict:
    """StackedAEHead: MMPose's AssociativeEmbeddingHead (its losses and
    decoder) on every stack. MMPose 1.3 cannot train its own AE head: its
    packing drops the keypoint indices the tag loss needs, and the codec's
    per-person weights do not fit the heatmap loss (StackedAEHead reduces
    them per image)."""
    keys = ('tag_dim', 'tag_per_keypoint', 'keypoint_loss', 'tag_loss',
            'decoder')
    changes.append(f'head: StackedAEHead ({num_stacks} stacks, heatmaps + '
                   'tags supervised on each) in place of '
                   'AssociativeEmbeddingHead, which MMPose 1.3 cannot train')
    return dict(_delete_=True, type='StackedAEHead', num_stacks=num_stacks,
                num_keypoints=k,
                **{key: old_head[key] for key in keys if key in old_head})


def _kept_head(old_head: dict, feat_channels: int, quarter: Tuple[int, int],
               codec: dict, new_codec: dict, changes: List[str]) -> Dict:
    """MMPose's head on the last stack's features: channels, no
    up-sampling, the 1/4 feature-map size, the new codec."""
    inner = old_head.get('pose_cfg')  # VisPredictHead wraps a pose head
    target = dict(inner) if inner else old_head
    new_head = dict(in_channels=feat_channels)
    if target['type'] in DECONV_HEADS and target.get(
            'deconv_out_channels',
            registered_default(target['type'], 'deconv_out_channels')):
        new_head.update(deconv_out_channels=None, deconv_kernel_sizes=None)
        changes.append(f'head {target["type"]}: deconvolutions removed '
                       '(features are already at 1/4)')
    if target['type'] in FEATUREMAP_SIZE_HEADS:
        new_head['in_featuremap_size'] = quarter
        changes.append(f'head {target["type"]}: in_featuremap_size '
                       f'{quarter} (input/4)')
    if 'decoder' in target and new_codec != codec:
        new_head['decoder'] = new_codec
    if inner:
        new_head = dict(pose_cfg=new_head)
    for key, url in pretrained_inits(old_head, 'model.head'):
        changes.append(f'note: {key} loads pretrained weights from {url} '
                       f'when training starts (needs the network; set '
                       f'{key}=None to start from random weights)')
    changes.append(f'head {old_head["type"]} kept on the last stack\'s '
                   f'{feat_channels}-channel features')
    return new_head


def _dataloaders(cfg: Config, codec: dict, new_codec: dict, head: str,
                 depth: int, changes: List[str]) -> Dict:
    """Dataloader overrides: the new codec in every pipeline, one target
    per stack, bottom-up size factors the hourglass can halve."""
    overrides = {}
    bottom_up = cfg.model.type == 'BottomupPoseEstimator'
    stride = hourglass_stride(depth)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name) is None:
            continue
        loader = cfg[name].to_dict()
        new = replace_dict(loader, codec, new_codec) if new_codec != codec \
            else copy.deepcopy(loader)
        if head == 'stacked' and single_level_targets(new, new_codec):
            changes.append(f'{name}: one target per stack from the head\'s '
                           'codec (not multi-level)')
        if bottom_up and set_size_factor(new, stride):
            changes.append(f'{name}: BottomupResize size_factor -> a '
                           f'multiple of {stride}')
        if new != loader:
            overrides[name] = new
    return overrides


def _mmpose_config_file(path: str) -> str:
    """A distiller's ``configs/...`` path (relative to MMPose's repository)
    in the installed MMPose."""
    if osp.isfile(path):
        return osp.abspath(path)
    rel = path.split('configs/', 1)[-1]
    return resolve_config(MMPOSE_PREFIX + rel)


def _student_overrides(cfg: Config, k: int, num_stacks: int,
                       feat_channels: int, changes: List[str]) -> Dict:
    """A distilled student keeps its head: the hourglass's level at the
    stride the head reads (input / ``in_featuremap_size``), projected to
    the head's ``in_channels``."""
    head = cfg.model.head
    size = tuple(_codec(cfg, dict(head))['input_size'])
    fm = head.get('in_featuremap_size')
    stride = size[0] // fm[0] if fm else 32
    depth = int(math.log2(max(stride // 4, 1)))
    if stride != 4 * 2**depth or depth > MAX_DEPTH or any(
            v % stride for v in size):
        raise MixError(f'the student head reads stride {stride} of input '
                       f'{size}: the hourglass gives strides 4 * 2**d up '
                       f'to {4 * 2**MAX_DEPTH} of inputs their multiples')
    changes.append(
        f'student backbone: StackedHourglass(num_stacks={num_stacks}, '
        f'feat_channels={feat_channels}, depth={depth}, out_type=pyramid) '
        f'in place of {cfg.model.backbone.type}: its level at stride '
        f'{stride} (the top-down path) projected to {head.in_channels} '
        f'channels, what {head.type} and the feature loss read; the head '
        'kept as it is')
    return dict(backbone=hourglass_backbone(
        num_stacks, k, feat_channels=feat_channels, depth=depth,
        out_type='pyramid', out_strides=(stride, ),
        out_channels=(head.in_channels, )))


def _distiller_overrides(cfg: Config, student_path: Optional[str],
                         num_stacks: int, feat_channels: int,
                         changes: List[str]) -> Dict:
    """The distiller's keys; writes its mixed student to
    ``student_path`` (see the module docstring)."""
    model = cfg.model
    if student_path is None:
        raise MixError(f'{model.type} trains a student given as a config '
                       'file: write the mix with write_mixed_config (or '
                       'tools/mix_config.py -o), which writes it beside')
    student_base = _mmpose_config_file(model.student_cfg)
    student = load(student_base)
    student_changes = []
    new_student = _student_overrides(student, num_keypoints(student),
                                     num_stacks, feat_channels,
                                     student_changes)
    overrides = _finish(student, new_student, student_changes)
    write_config(student_path, overrides, base=student_base, comments=[
        f'{student_base} with the stacked hourglass swapped in, the student '
        f'of {model.type} (tools/mix_config.py). Changes:',
        *(f'  - {c}' for c in student_changes)])
    changes.append(f'model.student_cfg: {student_path}, the student '
                   f'{osp.basename(student_base)} mixed:')
    changes += [f'  {c}' for c in student_changes]
    changes.append(f'model.teacher_cfg: {osp.basename(model.teacher_cfg)} '
                   'in the installed MMPose, kept')
    new_model = dict(student_cfg=student_path,
                     teacher_cfg=_mmpose_config_file(model.teacher_cfg))
    if model.get('teacher_pretrained'):
        changes.append(f'model.teacher_pretrained loads the teacher\'s '
                       f'weights from {model.teacher_pretrained}: a download '
                       'when the run starts (set a local file or None)')
    # checkpoints MMPose's tools load weights-only, as every mix writes them
    # (ConfigCheckHook reads a single model's backbone and head: not here)
    hooks = [dict(h) for h in cfg.get('custom_hooks') or []]
    if 'WeightsOnlyCheckpointHook' not in {h.get('type') for h in hooks}:
        hooks.append(dict(type='WeightsOnlyCheckpointHook'))
    return dict(model=new_model, custom_hooks=hooks)


def mix_overrides(config: Union[str, Config], num_stacks: int = 2,
                  feat_channels: int = 256, head: str = 'auto',
                  student_path: Optional[str] = None
                  ) -> Tuple[Dict, List[str]]:
    """The top-level keys to merge into ``config`` (``_delete_`` where a
    dict is replaced) and a line per change; a distiller's mixed student
    is written to ``student_path``."""
    cfg = load(config)
    model = cfg.model
    if model.get('type') in DISTILLERS:
        changes = []
        overrides = _distiller_overrides(cfg, student_path, num_stacks,
                                         feat_channels, changes)
        return overrides, changes
    old_head = dict(model.head)
    _refuse_unsupported(model)
    k = num_keypoints(cfg)
    neck = model.get('neck')
    if neck and neck.get('type') in PYRAMID_NECKS:
        changes = []
        new_model = _pyramid_overrides(cfg, k, num_stacks, feat_channels,
                                       changes)
        return _finish(cfg, new_model, changes), list(dict.fromkeys(changes))
    head = _choose_head(head, old_head)
    codec = _codec(cfg, old_head)
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
    quarter = tuple(s // 4 for s in input_size)
    new_model = _backbone_and_neck(model, k, depth, head, num_stacks,
                                   feat_channels, changes)
    new_codec = dict(codec)
    if 'heatmap_size' in codec and tuple(codec['heatmap_size']) != quarter:
        new_codec['heatmap_size'] = quarter
        if head != 'ae':  # AE decodes after resizing maps to the input
            changes.append(f'codec heatmap_size '
                           f'{tuple(codec["heatmap_size"])} -> {quarter} '
                           '(the hourglass predicts at 1/4)')
    if head == 'stacked':
        new_model['head'] = _stacked_head(old_head, k, num_stacks, new_codec,
                                          changes)
    elif head == 'ae':
        new_model['head'] = _ae_head(old_head, k, num_stacks, changes)
    else:
        new_model['head'] = _kept_head(old_head, feat_channels, quarter,
                                       codec, new_codec, changes)
    overrides = _finish(cfg, new_model, changes)
    overrides.update(_dataloaders(cfg, codec, new_codec, head, depth,
                                  changes))
    if head == 'ae':
        _ae_training_pipeline(cfg, overrides, new_codec, changes)
    return overrides, list(dict.fromkeys(changes))


def _finish(cfg: Config, new_model: Dict, changes: List[str]) -> Dict:
    """What every mix adds: the replaced network's weights dropped, NME's
    keypoints where MMPose lacks them, the model, the check hooks."""
    overrides = _replaced_network_weights(cfg, new_model, changes)
    overrides.update(_nme_keypoint_indices(cfg, changes))
    hooks = [dict(h) for h in cfg.get('custom_hooks') or []]
    overrides.update(model=new_model, custom_hooks=hooks + [
        dict(type=t) for t in ('ConfigCheckHook', 'WeightsOnlyCheckpointHook')
        if t not in {h.get('type') for h in hooks}])
    return overrides


# MMPose 1.3's NME(norm_mode='keypoint_distance') knows the normalising
# keypoints of some datasets only (NME.DEFAULT_KEYPOINT_INDICES), so its own
# 300W-LP config fails at validation; 300W-LP keeps 300W's 68-landmark
# markup, whose outer eye corners MMPose lists for '300w'.
NME_KEYPOINT_INDICES = {'300wlp': [36, 45]}


def _nme_keypoint_indices(cfg: Config, changes: List[str]) -> Dict:
    """Evaluators that would fail for want of normalising keypoints get
    them (:data:`NME_KEYPOINT_INDICES`)."""
    meta = dataset_metainfo(cfg.val_dataloader.dataset.to_dict())
    indices = NME_KEYPOINT_INDICES.get((meta or {}).get('dataset_name'))
    top = {}
    for key in ('val_evaluator', 'test_evaluator') if indices else ():
        ev = cfg.get(key)
        if not isinstance(ev, dict) or ev.get('type') != 'NME' or \
                ev.get('norm_mode') != 'keypoint_distance' or \
                ev.get('keypoint_indices'):
            continue
        top[key] = dict(ev.to_dict(), keypoint_indices=indices)
        changes.append(f'{key}: NME keypoint_indices={indices} (the outer '
                       f'eye corners; MMPose 1.3 lists none for '
                       f'{meta["dataset_name"]})')
    return top


def _replaced_network_weights(cfg: Config, new_model: Dict,
                              changes: List[str]) -> Dict:
    """Drop what initialises the replaced network as a whole: the pose
    model's ``init_cfg`` (e.g. a ResNet-50 COCO checkpoint by URL, which
    would download at start and then load into the hourglass) and
    ``load_from``. A kept head's own pretrained init stays (named by
    :func:`_kept_head`)."""
    top = {}
    init = cfg.model.get('init_cfg')
    if init:
        new_model['init_cfg'] = None
        what = init.get('checkpoint') if isinstance(init, dict) else init
        changes.append(f'model.init_cfg removed: it initialised the replaced '
                       f'network as a whole ({what})')
    if cfg.get('load_from'):
        top['load_from'] = None
        changes.append(f'load_from removed: {cfg.load_from} holds the '
                       'replaced network\'s weights')
    return top


def _ae_training_pipeline(cfg: Config, overrides: Dict, codec: dict,
                          changes: List[str]) -> None:
    """Associative Embedding trains with ``PackAEInputs`` (the tag loss's
    keypoint indices); MMPose's AE config ships ``train_pipeline = []``."""
    loader = overrides.get('train_dataloader') or \
        cfg.train_dataloader.to_dict()
    pipeline = list(loader['dataset'].get('pipeline') or [])
    types = [t.get('type') for t in pipeline]
    if not pipeline or 'GenerateTarget' not in types:
        pipeline = bottomup_ae_pipeline(codec)
        changes.append('train_dataloader: hg_plugin\'s AE training pipeline '
                       '(bottom-up affine, flip, heatmap + tag targets, '
                       'mask, PackAEInputs): the config\'s cannot train '
                       f'({"empty" if not types else "no GenerateTarget"})')
    elif 'PackAEInputs' not in types:
        pipeline = [dict(t, type='PackAEInputs') if t.get('type') ==
                    'PackPoseInputs' else t for t in pipeline]
        changes.append('train_dataloader: PackPoseInputs -> PackAEInputs '
                       '(keeps the keypoint indices the tag loss needs)')
    else:
        return
    loader = copy.deepcopy(loader)
    loader['dataset']['pipeline'] = pipeline
    overrides['train_dataloader'] = loader


def mixed_config(config: Union[str, Config], **kwargs) -> Config:
    """``config`` with the hourglass swapped in (see :func:`mix_overrides`;
    a distiller's student goes to a temporary folder)."""
    cfg = load(config)
    if cfg.model.get('type') in DISTILLERS:
        kwargs.setdefault('student_path', osp.join(
            tempfile.mkdtemp(prefix='hg_mix_'), 'student.py'))
    overrides, _ = mix_overrides(cfg, **kwargs)
    cfg.merge_from_dict(overrides)
    cfg.custom_imports = dict(imports=['hg_plugin'],
                              allow_failed_imports=False)
    return cfg


def write_mixed_config(config: str, out: str, **kwargs) -> List[str]:
    """Write a config that inherits ``config`` with the hourglass swapped
    in; returns the changes (also written as comments). A distiller's
    mixed student is written beside ``out`` (``<out>_student.py``)."""
    if load(config).model.get('type') in DISTILLERS:
        kwargs.setdefault('student_path', osp.abspath(
            osp.splitext(out)[0] + '_student.py'))
    overrides, changes = mix_overrides(config, **kwargs)
    base = config if config.startswith(MMPOSE_PREFIX) else \
        osp.abspath(config)
    comments = [f'{base} with the stacked hourglass swapped in '
                '(tools/mix_config.py). Changes:']
    comments += [f'  - {c}' for c in changes]
    write_config(out, overrides, base=base, comments=comments)
    return changes
