"""What the checks read from a config besides its literal values: the
keypoint count of a dataset, the defaults of a registered module, the
datasets inside a dataloader. One place each, for the config, record and
mixing checks."""
import inspect
import warnings
from typing import Any, Dict, Iterable, Optional

from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import DATASETS, MODELS


def parsed_metainfo(meta) -> Optional[Dict[str, Any]]:
    """MMPose's parse of a metainfo dict (or its ``from_file``), or None
    when MMPose cannot parse it."""
    try:
        with warnings.catch_warnings():  # MMPose notes where it found meta
            warnings.simplefilter('ignore')
            return parse_pose_metainfo(dict(meta))
    except Exception:  # noqa: BLE001 - an unparsable metainfo is none
        return None


def metainfo_keypoints(meta) -> Optional[int]:
    """``num_keypoints`` of a metainfo dict (or its ``from_file``), or None
    when MMPose cannot parse it."""
    parsed = parsed_metainfo(meta)
    return parsed['num_keypoints'] if parsed else None


def dataset_metainfo(ds: dict) -> Optional[Dict[str, Any]]:
    """The parsed metainfo of a dataset config: its ``metainfo``, else its
    class's ``METAINFO``; None for an unknown or custom dataset."""
    cls = DATASETS.get(ds.get('type') or '')
    meta = ds.get('metainfo') or getattr(cls, 'METAINFO', None)
    return parsed_metainfo(meta) if meta else None


def dataset_num_keypoints(ds: dict) -> Optional[int]:
    """Keypoints of a dataset config (see :func:`dataset_metainfo`)."""
    meta = dataset_metainfo(ds)
    return meta['num_keypoints'] if meta else None


def registered_default(module_type: str, arg: str) -> Any:
    """The default of ``arg`` in the registered model class's ``__init__``
    (None when it has no such argument)."""
    param = inspect.signature(MODELS.get(module_type).__init__).parameters.get(
        arg)
    return None if param is None else param.default


def with_defaults(module_cfg: dict) -> Dict[str, Any]:
    """A model config's arguments with the class's defaults filled in, so
    that a check reads the value the built module will have."""
    params = inspect.signature(MODELS.get(module_cfg['type']).__init__
                               ).parameters
    values = {name: p.default for name, p in params.items()
              if p.default is not inspect.Parameter.empty}
    values.update((k, v) for k, v in module_cfg.items() if k != 'type')
    return values


def dataset_configs(cfg: dict) -> Iterable[dict]:
    """The dataset configs inside a dataloader's ``dataset``, unwrapping
    MMEngine's dataset wrappers (``ConcatDataset``, ``RepeatDataset``...)."""
    if 'datasets' in cfg:
        for sub in cfg['datasets']:
            yield from dataset_configs(sub)
    elif 'dataset' in cfg and 'type' in cfg and 'ann_file' not in cfg:
        yield from dataset_configs(cfg['dataset'])
    else:
        yield cfg
