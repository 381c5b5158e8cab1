"""The toolbox fixes in hg_plugin/compat.py."""
import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.runner.checkpoint import _load_checkpoint

import hg_plugin  # noqa: F401  (applies the fixes)
from hg_plugin.compat import adapt_cfg_to_device


def test_mmengine_loads_full_checkpoints_on_new_torch(tmp_path):
    """MMEngine checkpoints pickle numpy and config objects, which torch>=2.6's
    weights_only=True default refuses."""
    path = tmp_path / 'ckpt.pth'
    ckpt = dict(state_dict={'w': torch.ones(2)},
                meta=dict(seed=np.int64(3), cfg=ConfigDict(a=1),
                          hist=np.arange(3)))
    torch.save(ckpt, path)
    with pytest.raises(Exception):
        torch.load(path)  # the failure being fixed
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert loaded['meta']['seed'] == 3 and loaded['meta']['cfg'].a == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_cpu_distributed_uses_gloo_and_no_device_ids():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    adapt_cfg_to_device(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel',
                                         device_ids=None)
