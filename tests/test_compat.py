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


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_amp_optim_wrapper_runs_bf16_on_cpu():
    from mmengine.optim import build_optim_wrapper
    net = torch.nn.Linear(4, 2)
    wrapper = build_optim_wrapper(net, dict(
        type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    before = net.weight.detach().clone()
    with wrapper.optim_context(net):
        out = net(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().sum())
    assert not torch.equal(before, net.weight)  # the step happened
    with pytest.raises(ValueError, match="optim_wrapper.dtype='bfloat16'"):
        build_optim_wrapper(net, dict(type='AmpOptimWrapper', dtype='float16',
                                      optimizer=dict(type='SGD', lr=0.1)))


def test_resume_survives_an_emptied_last_checkpoint(tmp_path):
    """Killed while CheckpointHook rewrote last_checkpoint: the newest
    numbered checkpoint is resumed (the Runner's own lookup is patched)."""
    from mmengine.runner import runner
    for name in ('iter_2.pth', 'iter_10.pth', 'best_PCK_iter_12.pth'):
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text('')
    assert runner.find_latest_checkpoint(str(tmp_path)) == str(
        tmp_path / 'iter_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert runner.find_latest_checkpoint(str(tmp_path)) == str(
        tmp_path / 'iter_2.pth')  # as written, when it is there
    assert runner.find_latest_checkpoint(str(tmp_path / 'none')) is None
