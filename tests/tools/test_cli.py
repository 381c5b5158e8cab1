"""tools/_cli/: what the command-line tools share."""
import sys

import pytest
import torch
from mmengine.config import Config

from tests.conftest import REPO

sys.path.insert(0, str(REPO / 'tools'))
import _cli  # noqa: E402


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_cpu_distributed_uses_gloo_and_no_device_ids():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    _cli.adapt_cfg_to_device(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel',
                                         device_ids=None)


def test_speed_and_trust_flags_become_registered_config_keys():
    import argparse
    parser = argparse.ArgumentParser()
    _cli.add_speed_args(parser, train=True)
    args = parser.parse_args(['--amp', 'bf16', '--compile', 'aot_eager',
                              '--allow-checkpoint-global', 'argparse.Namespace'])
    cfg = Config(dict(model=dict(backbone=dict(type='StackedHourglass')),
                      optim_wrapper=dict(optimizer=dict(type='SGD')),
                      custom_hooks=[dict(type='SyncBuffersHook')]))
    _cli.apply_speed_args(cfg, args, train=True)
    assert cfg.optim_wrapper.type == 'DeviceAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert [h['type'] for h in cfg.custom_hooks] == [
        'SyncBuffersHook', 'CompileNetworkHook', 'AllowCheckpointGlobalsHook']
    assert cfg.custom_hooks[1]['backend'] == 'aot_eager'
    assert cfg.custom_hooks[2]['names'] == ['argparse.Namespace']
    assert 'compile' not in cfg  # not mmengine's compile of train_step


def test_captured_step_flag_is_the_hook_and_never_fp16(capsys):
    """--captured-step adds CapturedTrainStepHook; with --amp fp16 (or the
    fast preset's fp16 on CUDA) it switches to bf16 and says so, since
    fp16's loss scaler reads the device each step."""
    import argparse
    parser = argparse.ArgumentParser()
    _cli.add_speed_args(parser, train=True)
    for flags, dtype in ((['--captured-step'], None),
                         (['--captured-step', '--amp', 'fp16'], 'bfloat16'),
                         (['--captured-step', '--amp', 'bf16'], 'bfloat16')):
        cfg = Config(dict(model=dict(backbone=dict(type='StackedHourglass')),
                          optim_wrapper=dict(optimizer=dict(type='RMSprop'))))
        _cli.apply_speed_args(cfg, parser.parse_args(flags), train=True)
        assert [h['type'] for h in cfg.custom_hooks] == [
            'CapturedTrainStepHook'], flags
        assert cfg.optim_wrapper.get('dtype') == dtype, flags
    assert 'bf16 autocast instead of fp16' in capsys.readouterr().out
