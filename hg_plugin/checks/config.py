"""Static checks of a stacked-hourglass config, before anything is built, so
that a mismatch is one line naming the config keys instead of a shape error
deep inside a training step. Each ``_*_problem`` checks one relation and
returns its line or None; :func:`check_config` returns the first."""
from typing import Optional

from ..models.backbones import hourglass_stride
from .metainfo import dataset_num_keypoints, with_defaults

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _same_stacks(bb: dict, head: dict) -> Optional[str]:
    if head.get('num_stacks') != bb['num_stacks']:
        return (f'model.head.num_stacks={head.get("num_stacks")} but '
                f'model.backbone.num_stacks={bb["num_stacks"]}: set both to '
                'the number of stacks')
    return None


def _head_problem(bb: dict, head: dict) -> Optional[str]:
    """Our heads against the backbone: stacks, stack weights, AE maps."""
    stacks, k = bb['num_stacks'], bb['num_keypoints']
    if head.get('type') in ('StackedHeatmapHead', 'StackedAEHead'):
        problem = _same_stacks(bb, head)
        if problem:
            return problem
    if head.get('type') == 'StackedHeatmapHead':
        weights = (head.get('loss') or {}).get('stack_weights')
        if weights is not None and not isinstance(weights, (list, tuple)):
            return (f'model.head.loss.stack_weights={weights!r}: give a '
                    f'list of {stacks} weights, one per stack, e.g. '
                    f'[1.0] * {stacks}')
        if weights is not None and len(weights) != stacks:
            return (f'model.head.loss.stack_weights has {len(weights)} '
                    f'entries for {stacks} stacks: give one weight per stack')
    if head.get('type') == 'StackedAEHead':
        n, dim = head.get('num_keypoints'), head.get('tag_dim', 1)
        maps = n * (1 + dim) if head.get('tag_per_keypoint', True) \
            else n + dim
        if k != maps:
            return (f'model.backbone.num_keypoints={k} but StackedAEHead '
                    f'needs {maps} maps per stack ({n} heatmaps + tags): '
                    f'set model.backbone.num_keypoints={maps}')
    return None


def _keypoints_problem(cfg, bb: dict, head: dict) -> Optional[str]:
    """Backbone heatmaps, head outputs and the datasets' keypoint counts."""
    k, out = bb['num_keypoints'], head.get('out_channels')
    if out is None:
        return None
    if bb['out_type'] == 'heatmaps' and out != k:
        return (f'model.backbone.num_keypoints={k} but model.head.'
                f'out_channels={out}: both must be the keypoint count')
    for loader in LOADERS:
        ds = (cfg.get(loader) or {}).get('dataset') or {}
        n = dataset_num_keypoints(ds) if ds else None
        if n is not None and n != out:
            return (f'{loader}.dataset ({ds.get("type")}) has {n} keypoints '
                    f'but model.head.out_channels={out} (and model.backbone.'
                    f'num_keypoints={k}): set them to {n}')
    return None


def _neck_problem(bb: dict, neck: Optional[dict],
                  head: dict) -> Optional[str]:
    """Necks that make no sense on one single-branch hourglass, and the
    channels a features head takes."""
    if neck and head.get('type') == 'StackedHeatmapHead':
        return (f'model.neck ({neck.get("type")}) sits between '
                'StackedHourglass and StackedHeatmapHead, which takes the '
                'per-stack heatmaps as they are: set model.neck=None')
    if neck and neck.get('type') == 'FeatureMapProcessor':
        return ('model.neck (FeatureMapProcessor) selects/concatenates the '
                'branches of a multi-branch backbone; StackedHourglass has '
                'one: set model.neck=None')
    feat = bb['feat_channels']
    if bb['out_type'] == 'pyramid' and neck and \
            neck.get('in_channels') is not None:
        strides = tuple(bb['out_strides'])
        chans = list(bb.get('out_channels') or [feat] * len(strides))
        want = neck['in_channels']
        want = list(want) if isinstance(want, (list, tuple)) else [want]
        if want != chans:
            return (f'model.neck.in_channels={want} but StackedHourglass('
                    f"out_type='pyramid') gives {chans} channels at strides "
                    f'{strides}: set model.backbone.out_channels={want} '
                    f'(one per stride)')
    if bb['out_type'] == 'features' and head.get('in_channels',
                                                 feat) != feat:
        return (f'model.head.in_channels={head["in_channels"]} but '
                f'StackedHourglass(out_type=\'features\') gives {feat}-'
                f'channel features: set model.head.in_channels={feat}')
    return None


def _codec_problem(model: dict, bb: dict, head: dict) -> Optional[str]:
    """The codec's input and heatmap sizes against what the network takes
    and gives."""
    codec = head.get('decoder') or {}
    for key in ('input_size', 'heatmap_size'):
        size = codec.get(key)
        if size is not None and not (
                isinstance(size, (list, tuple)) and len(size) == 2 and
                all(isinstance(v, int) and v > 0 for v in size)):
            return (f'model.head.decoder.{key}={size!r}: give a pair of '
                    'positive integers (width, height), e.g. (256, 256)')
    if 'input_size' not in codec:
        return None
    w, h = codec['input_size']
    depth, stride = bb['depth'], hourglass_stride(bb['depth'])
    if w % stride or h % stride:
        return (f'model.head.decoder.input_size={(w, h)} cannot be halved '
                f'{depth} times after the /4 stem: use multiples of '
                f'{stride} (or a smaller model.backbone.depth)')
    hm = codec.get('heatmap_size')
    s = bb['heatmap_stride'] if bb['out_type'] == 'heatmaps' else 4
    if (model.get('test_cfg') or {}).get('restore_heatmap_size'):
        hm = None  # bottom-up: decoded after resizing to the input
    if hm is not None and tuple(hm) != (w // s, h // s):
        return (f'model.head.decoder.heatmap_size={tuple(hm)} but the '
                f'network outputs {(w // s, h // s)} (input_size / {s}):'
                f' set heatmap_size to input_size / {s}')
    size = head.get('in_featuremap_size')
    if bb['out_type'] == 'pyramid':  # a neck's level, not the hourglass's
        size = None
    if size is not None and tuple(size) != (w // 4, h // 4):
        return (f'model.head.in_featuremap_size={tuple(size)} but '
                f'StackedHourglass outputs {(w // 4, h // 4)} '
                f'(input_size / 4): set model.head.in_featuremap_size='
                f'{(w // 4, h // 4)}')
    return None


def _size_factor_problem(cfg, bb: dict) -> Optional[str]:
    """Bottom-up resizing to sizes the hourglass can halve."""
    depth, stride = bb['depth'], hourglass_stride(bb['depth'])
    for loader in LOADERS:
        ds = (cfg.get(loader) or {}).get('dataset') or {}
        for i, t in enumerate(ds.get('pipeline') or []):
            factor = t.get('size_factor', 32) \
                if t.get('type') == 'BottomupResize' else None
            if factor is not None and factor % stride:
                return (f'{loader}.dataset.pipeline[{i}] (BottomupResize) '
                        f'size_factor={factor}: StackedHourglass(depth='
                        f'{depth}) halves the input {depth} times after the '
                        f'/4 stem: set size_factor={stride} (a multiple of '
                        f'{stride})')
    return None


def check_config(cfg) -> Optional[str]:
    """Return a one-line description of the first inconsistency, or None
    (also None for a config whose backbone is not ``StackedHourglass``)."""
    model = cfg.get('model') or {}
    bb, head = model.get('backbone') or {}, model.get('head') or {}
    if bb.get('type') != 'StackedHourglass':
        return None
    bb = with_defaults(bb)
    return (_head_problem(bb, head) or _keypoints_problem(cfg, bb, head)
            or _neck_problem(bb, model.get('neck'), head)
            or _codec_problem(model, bb, head)
            or _size_factor_problem(cfg, bb))
