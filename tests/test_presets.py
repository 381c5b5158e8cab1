"""--preset fast: which config keys it sets on each device (timings are the
benchmark's, tools/benchmark.py)."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from hg_plugin import config_path
from hg_plugin.presets import apply_preset
from tests.conftest import REPO

ZOO_RES50 = ('.mim/configs/body_2d_keypoint/topdown_heatmap/mpii/'
             'td-hm_res50_8xb64-210e_mpii-256x256.py')


def hook_types(cfg):
    return [h['type'] for h in cfg.custom_hooks]


def test_fast_on_cuda_is_amp_channels_last_without_compile():
    cfg = Config.fromfile(config_path('hg8_mpii_256.py'))
    hooks = hook_types(cfg)
    said = apply_preset(cfg, 'fast', device='cuda')
    assert cfg.model.backbone.channels_last is True
    assert cfg.optim_wrapper.type == 'DeviceAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'float16'  # faster on an H100
    assert cfg.val_cfg.fp16 and cfg.test_cfg.fp16
    # the shipped configs feed one input size: cuDNN's search is paid once
    assert cfg.env_cfg.cudnn_benchmark is True
    assert 'cudnn.benchmark (fixed input size)' in said
    # torch.compile trained slower on an H200 (benchmarks/cuda/h200); the
    # backbone makes itself channels-last: no hook added
    assert hook_types(cfg) == hooks
    assert said[-1].startswith('no torch.compile')
    # applying it twice changes nothing
    dumped = cfg.pretty_text
    apply_preset(cfg, 'fast', device='cuda')
    assert cfg.pretty_text == dumped


@pytest.mark.parametrize('device, dtype', [('cuda', 'float16'),
                                           ('cpu', 'bfloat16')])
def test_one_auto_dtype_for_amp_flag_preset_and_optim_wrapper(
        monkeypatch, device, dtype):
    """``--amp`` without a value, ``--preset fast`` and
    ``DeviceAmpOptimWrapper(dtype='auto')`` choose the same dtype on the
    same (faked) device: fp16 on CUDA, bf16 on the CPU."""
    import argparse
    import sys

    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.logging import MMLogger
    sys.path.insert(0, str(REPO / 'tools'))
    import _cli
    MMLogger.get_current_instance()  # made now: a new one asks the GPU id
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: device == 'cuda')
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: True,
                        raising=False)  # so that the CPU preset uses AMP
    chosen = {}
    parser = argparse.ArgumentParser()
    _cli.add_speed_args(parser, train=True)
    cfg = Config.fromfile(config_path('hg2_mpii_256.py'))
    _cli.apply_speed_args(cfg, parser.parse_args(['--amp']), train=True)
    chosen['--amp'] = cfg.optim_wrapper.dtype
    cfg = Config.fromfile(config_path('hg2_mpii_256.py'))
    apply_preset(cfg, 'fast')  # the device it sees
    chosen['--preset fast'] = cfg.optim_wrapper.dtype
    init_default_scope('mmpose')
    if device == 'cuda':  # MMEngine's AmpOptimWrapper needs a real GPU:
        # record the dtype DeviceAmpOptimWrapper hands it
        from mmengine.optim import AmpOptimWrapper

        def fake_init(self, loss_scale='dynamic', dtype=None, **kwargs):
            self.cast_dtype = getattr(torch, dtype)
        monkeypatch.setattr(AmpOptimWrapper, '__init__', fake_init)
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), dict(
        type='DeviceAmpOptimWrapper', dtype='auto',
        optimizer=dict(type='SGD', lr=0.1)))
    chosen['dtype=auto'] = str(wrapper.cast_dtype).replace('torch.', '')
    assert chosen == dict.fromkeys(chosen, dtype)


@pytest.mark.parametrize('amx', [False, True])
def test_fast_on_cpu_keeps_only_what_pays(monkeypatch, amx):
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: amx,
                        raising=False)
    cfg = Config.fromfile(config_path('hg8_mpii_256.py'))
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    cudnn = cfg.env_cfg.get('cudnn_benchmark')
    said = apply_preset(cfg, 'fast', device='cpu')
    assert 'CompileNetworkHook' not in hook_types(cfg)
    assert cfg.env_cfg.get('cudnn_benchmark') == cudnn  # no cuDNN here
    if amx:
        assert cfg.optim_wrapper.dtype == 'bfloat16'
    else:
        assert cfg.optim_wrapper.get('type', 'OptimWrapper') == wrapper
        assert any('without AMX' in s for s in said)


def test_fast_on_another_backbone_uses_the_channels_last_hook():
    import mmpose
    from pathlib import Path
    cfg = Config.fromfile(Path(mmpose.__file__).parent / ZOO_RES50)
    apply_preset(cfg, 'fast', device='cuda')
    assert 'ChannelsLastHook' in hook_types(cfg)


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset 'fastest'"):
        apply_preset(Config(dict(model=dict())), 'fastest')


def test_channels_last_hook_converts_any_model():
    from hg_plugin.engine import ChannelsLastHook
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
    ChannelsLastHook().before_run(SimpleNamespace(model=model))
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    out = model(torch.randn(1, 3, 8, 8))
    assert out.is_contiguous(memory_format=torch.channels_last)
