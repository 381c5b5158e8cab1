"""hg_plugin.runtime (the toolbox fixes, applied once, version-gated) and
hg_plugin.checkpoints.safe_load (weights-only loading with an explicit
allowlist)."""
import argparse
import logging
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import hg_plugin
from hg_plugin import runtime
from hg_plugin.checkpoints import safe_load
from tests.conftest import REPO, env_without_weights_only_escape


class Payload:
    """Unpickling this runs ``os.system`` (what a hostile checkpoint does)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def write_malicious(path, marker):
    torch.save(dict(state_dict={'w': torch.ones(1)},
                    meta=dict(payload=Payload(marker))), path)


def test_import_leaves_torch_load_and_its_default_alone():
    code = ('import inspect, torch\n'
            'load = torch.load\n'
            'import hg_plugin\n'
            'assert torch.load is load\n'
            'assert inspect.signature(torch.load).parameters['
            '"weights_only"].default is None\n'
            'assert torch.serialization._default_to_weights_only(None)\n'
            'print("ok")')
    env = env_without_weights_only_escape()
    r = subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'ok' in r.stdout, r.stderr


def test_mmengine_loads_mmpose_checkpoint_contents_weights_only(tmp_path):
    """What MMPose checkpoints (the zoo's too) pickle besides tensors -
    numpy arrays, scalars and dtypes in the dataset metainfo, a Counter of
    milestones - loads through mmengine's own loader, which calls torch.load
    with torch's weights_only=True default."""
    from collections import Counter

    from mmengine.runner.checkpoint import _load_checkpoint
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict={'w': torch.ones(2)},
                    meta=dict(seed=np.int64(3), sigmas=np.arange(3.0),
                              flip=np.array([1, 0], np.int32),
                              dtype=np.dtype('float32')),
                    param_schedulers=[dict(milestones=Counter([3, 5]))]),
               path)
    loaded = _load_checkpoint(str(path), map_location='cpu')
    assert loaded['meta']['seed'] == 3
    assert loaded['meta']['sigmas'].tolist() == [0.0, 1.0, 2.0]
    assert safe_load.load_checkpoint(str(path))['meta']['flip'].dtype == \
        np.int32


def test_history_buffers_are_refused_naming_every_global(tmp_path):
    """MMEngine's HistoryBuffer pickles getattr: not allowlisted (it would
    reach any attribute of an allowed class). The refusal names both
    globals; WeightsOnlyCheckpointHook keeps them out of our checkpoints."""
    from mmengine.logging import HistoryBuffer
    buf = HistoryBuffer()
    buf.update(0.5)
    path = tmp_path / 'hub.pth'
    torch.save(dict(message_hub=dict(log_scalars={'loss': buf})), path)
    with pytest.raises(safe_load.UnsafeCheckpointError) as e:
        safe_load.load_checkpoint(str(path))
    assert set(e.value.names) == {
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr'}
    assert '--allow-checkpoint-global builtins.getattr' in str(e.value)


def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    marker, path = tmp_path / 'pwned', tmp_path / 'evil.pth'
    write_malicious(path, marker)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        _load_checkpoint(str(path), map_location='cpu')  # MMEngine's loader
    with pytest.raises(safe_load.UnsafeCheckpointError) as e:
        safe_load.load_checkpoint(str(path))
    assert e.value.names == ['posix.system']
    message = str(e.value)
    assert str(path) in message and 'AllowCheckpointGlobalsHook' in message
    assert '\n' not in message
    assert not marker.exists()


def test_tools_refuse_a_malicious_checkpoint_in_one_line(tmp_path, mpii_root):
    from tests.conftest import mpii_cfg_options
    marker, path = tmp_path / 'pwned', tmp_path / 'evil.pth'
    write_malicious(path, marker)
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(mpii_root).items()]
    r = subprocess.run(
        [sys.executable, 'tools/test.py', 'configs/hg2_mpii_256.py',
         str(path), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
         *opts, 'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert str(path) in lines[0] and 'system' in lines[0]
    assert not marker.exists()


def test_an_older_trusted_file_loads_with_an_explicit_opt_in(tmp_path):
    """Old trainers pickled their argparse namespace: refused by default,
    loaded once that one global is allowed (AllowCheckpointGlobalsHook)."""
    path = tmp_path / 'old.pth'
    torch.save(dict(state_dict={'w': torch.ones(1)},
                    args=argparse.Namespace(lr=2.5e-4)), path)
    with pytest.raises(safe_load.UnsafeCheckpointError,
                       match='argparse.Namespace'):
        safe_load.load_checkpoint(str(path))
    hook = hg_plugin.AllowCheckpointGlobalsHook(names=['argparse.Namespace'])
    try:
        hook.before_run(runner=None)
        assert safe_load.load_checkpoint(str(path))['args'].lr == 2.5e-4
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(safe_load.SAFE_GLOBALS)
    with pytest.raises(ValueError, match='cannot be imported'):
        safe_load.allow_globals(['no_such_module.Thing'])
    with pytest.raises(TypeError, match='list'):
        hg_plugin.AllowCheckpointGlobalsHook(names='argparse.Namespace')


def test_fixes_apply_once():
    from mmengine.dist import utils as dist_utils
    from mmengine.fileio.backends import registry_utils
    before = (dist_utils._init_dist_pytorch,
              registry_utils.prefix_to_backends[''],
              list(torch.serialization.get_safe_globals()))
    assert runtime.apply() == {name: 'applied' for name, _, _ in
                               runtime.FIXES}
    after = (dist_utils._init_dist_pytorch,
             registry_utils.prefix_to_backends[''],
             list(torch.serialization.get_safe_globals()))
    assert before == after
    assert registry_utils.prefix_to_backends[''].__name__ == \
        'AtomicLocalBackend'


def test_a_fix_for_other_versions_is_skipped_with_one_line(
        monkeypatch, caplog):
    import mmengine
    calls = []
    monkeypatch.setattr(runtime, 'APPLIED', {})
    monkeypatch.setattr(runtime, 'FIXES', [
        ('demo_fix', 'mmengine 0.10', lambda: calls.append(1))])
    monkeypatch.setattr(mmengine, '__version__', '0.11.2')
    with caplog.at_level(logging.WARNING, logger='hg_plugin'):
        assert runtime.apply() == {'demo_fix': 'skipped'}
    assert not calls
    assert 'fix demo_fix skipped (written for mmengine 0.10.x, found ' \
        '0.11.2)' in caplog.text
    monkeypatch.setattr(mmengine, '__version__', '0.10.7')
    monkeypatch.setattr(runtime, 'APPLIED', {})
    assert runtime.apply() == {'demo_fix': 'applied'} and calls == [1]


def test_local_writes_are_atomic(tmp_path, monkeypatch):
    """A write that fails half-way leaves neither a partial file nor a
    temporary one; the previous content stays."""
    from mmengine.fileio import get_file_backend
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    target = tmp_path / 'ckpt.pth'
    backend.put(b'old', str(target))

    def broken_fsync(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError, match='No space'):
        backend.put(b'new' * 1000, str(target))
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ckpt.pth']


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_device_amp_optim_wrapper_runs_bf16_on_cpu():
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    init_default_scope('mmpose')  # where hg_plugin registers it
    net = torch.nn.Linear(4, 2)
    wrapper = build_optim_wrapper(net, dict(
        type='DeviceAmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    before = net.weight.detach().clone()
    with wrapper.optim_context(net):
        out = net(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().sum())
    assert not torch.equal(before, net.weight)  # the step happened
    wrapper.load_state_dict(wrapper.state_dict())  # checkpoint round trip
    with pytest.raises(ValueError, match="optim_wrapper.dtype='bfloat16'"):
        build_optim_wrapper(net, dict(type='DeviceAmpOptimWrapper',
                                      dtype='float16',
                                      optimizer=dict(type='SGD', lr=0.1)))


def test_layers_tools_then_runtime_then_library():
    """The library never imports the runtime module, the CLI helpers or
    anything that exits the process; the tools import the library, never
    the other way round."""
    import ast
    package = REPO / 'hg_plugin'
    for path in package.rglob('*.py'):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ''
                names |= {module, *(f'{module}.{a.name}' for a in node.names)}
        rel = path.relative_to(REPO)
        if rel.as_posix() != 'hg_plugin/__init__.py':
            assert not any(n.endswith('runtime') for n in names), rel
        assert not any(n in ('_cli', 'argparse') or n.startswith('tools')
                       for n in names), rel
        assert 'sys.exit(' not in path.read_text(), rel


def test_mmpose_heads_train_under_bf16_autocast():
    """MMPose 1.3's HeatmapHead computes its accuracy with ``to_numpy``,
    which fails on bf16 heatmaps; the runtime fix upcasts them."""
    from mmengine.structures import InstanceData, PixelData
    from mmpose.models.heads.heatmap_heads import heatmap_head
    from mmpose.registry import MODELS
    from mmpose.structures import PoseDataSample
    assert heatmap_head.to_numpy(torch.ones(2, dtype=torch.bfloat16)
                                 ).dtype.name == 'float32'
    head = MODELS.build(dict(
        type='HeatmapHead', in_channels=8, out_channels=3,
        deconv_out_channels=None, loss=dict(type='KeypointMSELoss')))
    sample = PoseDataSample()
    sample.gt_fields = PixelData(heatmaps=torch.rand(3, 8, 8))
    sample.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, 3))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss((torch.randn(1, 8, 8, 8), ), [sample])
    assert torch.isfinite(losses['loss_kpt']) and 'acc_pose' in losses


def test_device_amp_optim_wrapper_auto_dtype_on_the_cpu(monkeypatch):
    """On a CPU-only machine ``dtype='auto'`` autocasts to bfloat16 (the
    CPU's only autocast dtype), with the loss scaler off."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    init_default_scope('mmpose')
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 2), dict(
        type='DeviceAmpOptimWrapper', dtype='auto',
        optimizer=dict(type='SGD', lr=0.1)))
    assert wrapper.cast_dtype == torch.bfloat16
    assert not wrapper.loss_scaler.is_enabled()


def _train_zoo_config(ws, work, *extra):
    """MMPose's own tools/train.py on a zoo heatmap config (MobileNetV2
    SimpleBaseline, COCO) for one epoch of the real COCO samples, seeded
    and deterministic; (logged losses, final weights)."""
    import json

    import mmpose
    mim = os.path.join(os.path.dirname(mmpose.__file__), '.mim')
    cfg = os.path.join(mim, 'configs', 'body_2d_keypoint', 'topdown_heatmap',
                       'coco', 'td-hm_mobilenetv2_8xb64-210e_coco-256x192.py')
    opts = ['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
            'train_cfg.max_epochs=1', 'train_cfg.val_interval=100',
            'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=1', 'randomness.seed=0',
            'randomness.deterministic=True', 'model.init_cfg=None',
            'model.backbone.init_cfg=None', *extra]
    r = subprocess.run([sys.executable, os.path.join(mim, 'tools',
                                                     'train.py'), cfg,
                        '--work-dir', str(work), '--cfg-options', *opts],
                       cwd=ws, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    scalars = next(work.glob('*/vis_data/scalars.json'))
    losses = [json.loads(line)['loss'] for line in
              scalars.read_text().splitlines() if '"loss"' in line]
    state = torch.load(work / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    return losses, state, r.stdout


def test_the_plugin_leaves_a_zoo_run_unchanged(coco_workspace, tmp_path):
    """The same seeded, deterministic zoo config (no hourglass) trains to
    identical losses and weights with and without custom_imports=
    ['hg_plugin']: none of import hg_plugin's process-wide fixes changes a
    run that does not use the hourglass."""
    plain = _train_zoo_config(coco_workspace, tmp_path / 'plain')
    again = _train_zoo_config(coco_workspace, tmp_path / 'again')
    assert plain[0] == again[0]  # the control: the run repeats exactly
    with_plugin = _train_zoo_config(
        coco_workspace, tmp_path / 'plugin',
        "custom_imports.imports=['hg_plugin']",
        'custom_imports.allow_failed_imports=False')
    assert 'hg_plugin' in with_plugin[2]  # the import was in the config
    assert len(plain[0]) >= 3 and with_plugin[0] == plain[0]
    assert plain[1].keys() == with_plugin[1].keys()
    for name, value in plain[1].items():
        assert torch.equal(value, with_plugin[1][name]), name
