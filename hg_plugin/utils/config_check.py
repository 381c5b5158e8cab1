"""Static checks of a stacked-hourglass config, before anything is built, so
that a mismatch is one line naming the config keys instead of a shape error
deep inside a training step."""
import warnings
from typing import Optional


def _dataset_num_keypoints(ds: dict) -> Optional[int]:
    import mmpose.datasets  # noqa: F401  (registers the datasets)
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    from mmpose.registry import DATASETS
    cls = DATASETS.get(ds.get('type', ''))
    meta = ds.get('metainfo') or getattr(cls, 'METAINFO', None)
    if not meta:
        return None
    try:
        with warnings.catch_warnings():  # MMPose notes where it found meta
            warnings.simplefilter('ignore')
            return parse_pose_metainfo(dict(meta))['num_keypoints']
    except Exception:
        return None


def check_config(cfg) -> Optional[str]:
    """Return a one-line description of the first inconsistency, or None."""
    model = cfg.get('model') or {}
    bb, head = model.get('backbone') or {}, model.get('head') or {}
    if bb.get('type') != 'StackedHourglass':
        return None
    stacks, k = bb.get('num_stacks', 8), bb.get('num_keypoints', 16)
    depth, heatmaps = bb.get('depth', 4), bb.get('out_type',
                                                 'heatmaps') == 'heatmaps'
    if head.get('type') == 'StackedHeatmapHead':
        if head.get('num_stacks') != stacks:
            return (f'model.head.num_stacks={head.get("num_stacks")} but '
                    f'model.backbone.num_stacks={stacks}: set both to the '
                    'number of stacks')
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
        if head.get('num_stacks') != stacks:
            return (f'model.head.num_stacks={head.get("num_stacks")} but '
                    f'model.backbone.num_stacks={stacks}: set both to the '
                    'number of stacks')
        if k != maps:
            return (f'model.backbone.num_keypoints={k} but StackedAEHead '
                    f'needs {maps} maps per stack ({n} heatmaps + tags): '
                    f'set model.backbone.num_keypoints={maps}')
    out = head.get('out_channels')
    if heatmaps and out is not None and out != k:
        return (f'model.backbone.num_keypoints={k} but model.head.'
                f'out_channels={out}: both must be the keypoint count')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = (cfg.get(loader) or {}).get('dataset') or {}
        n = _dataset_num_keypoints(ds) if ds else None
        if n is not None and out is not None and n != out:
            return (f'{loader}.dataset ({ds.get("type")}) has {n} keypoints '
                    f'but model.head.out_channels={out} (and model.backbone.'
                    f'num_keypoints={k}): set them to {n}')
    neck = model.get('neck')
    if neck and head.get('type') == 'StackedHeatmapHead':
        return (f'model.neck ({neck.get("type")}) sits between '
                'StackedHourglass and StackedHeatmapHead, which takes the '
                'per-stack heatmaps as they are: set model.neck=None')
    if neck and neck.get('type') == 'FeatureMapProcessor':
        return ('model.neck (FeatureMapProcessor) selects/concatenates the '
                'branches of a multi-branch backbone; StackedHourglass has '
                'one: set model.neck=None')
    feat = bb.get('feat_channels', 256)
    if not heatmaps and 'in_channels' in head and head['in_channels'] != feat:
        return (f'model.head.in_channels={head["in_channels"]} but '
                f'StackedHourglass(out_type=\'features\') gives {feat}-'
                f'channel features: set model.head.in_channels={feat}')
    stride = 4 * 2**depth
    codec = head.get('decoder') or {}
    for key in ('input_size', 'heatmap_size'):
        size = codec.get(key)
        if size is not None and not (
                isinstance(size, (list, tuple)) and len(size) == 2 and
                all(isinstance(v, int) and v > 0 for v in size)):
            return (f'model.head.decoder.{key}={size!r}: give a pair of '
                    'positive integers (width, height), e.g. (256, 256)')
    if 'input_size' in codec:
        w, h = codec['input_size']
        if w % stride or h % stride:
            return (f'model.head.decoder.input_size={tuple(codec["input_size"])}'
                    f' cannot be halved {depth} times after the /4 stem: use '
                    f'multiples of {stride} (or a smaller model.backbone.depth)')
        hm = codec.get('heatmap_size')
        s = bb.get('heatmap_stride', 4) if heatmaps else 4
        if (model.get('test_cfg') or {}).get('restore_heatmap_size'):
            hm = None  # bottom-up: decoded after resizing to the input
        if hm is not None and tuple(hm) != (w // s, h // s):
            return (f'model.head.decoder.heatmap_size={tuple(hm)} but the '
                    f'network outputs {(w // s, h // s)} (input_size / {s}):'
                    f' set heatmap_size to input_size / {s}')
        size = head.get('in_featuremap_size')
        if size is not None and tuple(size) != (w // 4, h // 4):
            return (f'model.head.in_featuremap_size={tuple(size)} but '
                    f'StackedHourglass outputs {(w // 4, h // 4)} '
                    f'(input_size / 4): set model.head.in_featuremap_size='
                    f'{(w // 4, h // 4)}')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
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
