"""Conversion of public stacked-hourglass checkpoints: state dicts with the
sources' exact key names and shapes, converted, loaded strictly, and compared
with a forward pass of the source layout written here independently."""
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hg_plugin.models.backbones import StackedHourglass
from hg_plugin.checkpoints import ConversionError, convert
from tests.conftest import REPO, mpii_cfg_options


def bn(c):
    m = nn.BatchNorm2d(c)
    m.running_mean.uniform_(-0.2, 0.2)  # non-trivial statistics
    m.running_var.uniform_(0.5, 1.5)
    m.weight.data.uniform_(0.5, 1.5)
    m.bias.data.uniform_(-0.2, 0.2)
    return m


# --- princeton-vl layout: Conv wraps .conv (+ .bn); Residual always has
# skip_layer; hgs[i] is Sequential(Hourglass); merge convs are Merge.conv.conv
class PVConv(nn.Module):
    def __init__(self, i, o, k, stride=1, use_bn=False, relu=False):
        super().__init__()
        self.conv = nn.Conv2d(i, o, k, stride, (k - 1) // 2)
        self.bn = bn(o) if use_bn else None
        self.relu = relu

    def forward(self, x):
        x = self.conv(x)
        x = self.bn(x) if self.bn is not None else x
        return F.relu(x) if self.relu else x


class PVResidual(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.bn1, self.conv1 = bn(i), PVConv(i, o // 2, 1)
        self.bn2, self.conv2 = bn(o // 2), PVConv(o // 2, o // 2, 3)
        self.bn3, self.conv3 = bn(o // 2), PVConv(o // 2, o, 1)
        self.skip_layer = PVConv(i, o, 1)
        self.need_skip = i != o

    def forward(self, x):
        r = self.skip_layer(x) if self.need_skip else x
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return self.conv3(F.relu(self.bn3(out))) + r


class PVHourglass(nn.Module):
    def __init__(self, n, f):
        super().__init__()
        self.up1, self.low1 = PVResidual(f, f), PVResidual(f, f)
        self.low2 = PVHourglass(n - 1, f) if n > 1 else PVResidual(f, f)
        self.low3 = PVResidual(f, f)

    def forward(self, x):
        low = self.low3(self.low2(self.low1(F.max_pool2d(x, 2, 2))))
        return self.up1(x) + F.interpolate(low, scale_factor=2, mode='nearest')


class PVMerge(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.conv = PVConv(i, o, 1)

    def forward(self, x):
        return self.conv(x)


class PVPoseNet(nn.Module):
    def __init__(self, nstack, inp_dim, oup_dim):
        super().__init__()
        self.nstack = nstack
        self.pre = nn.Sequential(
            PVConv(3, 64, 7, 2, use_bn=True, relu=True), PVResidual(64, 128),
            nn.MaxPool2d(2, 2), PVResidual(128, 128), PVResidual(128, inp_dim))
        self.hgs = nn.ModuleList(
            nn.Sequential(PVHourglass(4, inp_dim)) for _ in range(nstack))
        self.features = nn.ModuleList(
            nn.Sequential(PVResidual(inp_dim, inp_dim),
                          PVConv(inp_dim, inp_dim, 1, use_bn=True, relu=True))
            for _ in range(nstack))
        self.outs = nn.ModuleList(
            PVConv(inp_dim, oup_dim, 1) for _ in range(nstack))
        self.merge_features = nn.ModuleList(
            PVMerge(inp_dim, inp_dim) for _ in range(nstack - 1))
        self.merge_preds = nn.ModuleList(
            PVMerge(oup_dim, inp_dim) for _ in range(nstack - 1))

    def forward(self, x):
        x, preds = self.pre(x), []
        for i in range(self.nstack):
            feature = self.features[i](self.hgs[i](x))
            preds.append(self.outs[i](feature))
            if i < self.nstack - 1:
                x = x + self.merge_preds[i](preds[-1]) + \
                    self.merge_features[i](feature)
        return torch.stack(preds, 1)


# --- bearpaw layout: Bottleneck (expansion 2) with downsample.0; hg.i.hg is
# a list per level of [up1, low1, low3, (innermost)] Sequential blocks
class BPBottleneck(nn.Module):
    def __init__(self, inplanes, planes, downsample=False):
        super().__init__()
        self.bn1, self.conv1 = bn(inplanes), nn.Conv2d(inplanes, planes, 1)
        self.bn2, self.conv2 = bn(planes), nn.Conv2d(planes, planes, 3, 1, 1)
        self.bn3, self.conv3 = bn(planes), nn.Conv2d(planes, planes * 2, 1)
        self.downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes * 2, 1)) if downsample else None

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        return out + (self.downsample(x) if self.downsample else x)


class BPHourglass(nn.Module):
    def __init__(self, num_blocks, planes, depth):
        super().__init__()
        self.depth = depth

        def res():
            return nn.Sequential(*[BPBottleneck(planes * 2, planes)
                                   for _ in range(num_blocks)])

        self.hg = nn.ModuleList(
            nn.ModuleList([res() for _ in range(4 if d == 0 else 3)])
            for d in range(depth))

    def _forward(self, n, x):
        up1 = self.hg[n - 1][0](x)
        low1 = self.hg[n - 1][1](F.max_pool2d(x, 2, 2))
        low2 = self._forward(n - 1, low1) if n > 1 else self.hg[0][3](low1)
        return up1 + F.interpolate(self.hg[n - 1][2](low2), scale_factor=2)

    def forward(self, x):
        return self._forward(self.depth, x)


class BPHourglassNet(nn.Module):
    def __init__(self, num_stacks, num_blocks, num_classes):
        super().__init__()
        self.num_stacks, ch = num_stacks, 256
        self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3), bn(64)
        self.layer1 = nn.Sequential(BPBottleneck(64, 64, downsample=True))
        self.layer2 = nn.Sequential(BPBottleneck(128, 128, downsample=True))
        self.layer3 = nn.Sequential(BPBottleneck(256, 128))
        self.hg = nn.ModuleList(
            BPHourglass(num_blocks, 128, 4) for _ in range(num_stacks))
        self.res = nn.ModuleList(
            nn.Sequential(*[BPBottleneck(256, 128) for _ in range(num_blocks)])
            for _ in range(num_stacks))
        self.fc = nn.ModuleList(
            nn.Sequential(nn.Conv2d(ch, ch, 1), bn(ch), nn.ReLU())
            for _ in range(num_stacks))
        self.score = nn.ModuleList(
            nn.Conv2d(ch, num_classes, 1) for _ in range(num_stacks))
        self.fc_ = nn.ModuleList(
            nn.Conv2d(ch, ch, 1) for _ in range(num_stacks - 1))
        self.score_ = nn.ModuleList(
            nn.Conv2d(num_classes, ch, 1) for _ in range(num_stacks - 1))

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(F.max_pool2d(self.layer1(x), 2, 2)))
        out = []
        for i in range(self.num_stacks):
            y = self.fc[i](self.res[i](self.hg[i](x)))
            out.append(self.score[i](y))
            if i < self.num_stacks - 1:
                x = x + self.fc_[i](y) + self.score_[i](out[-1])
        return out


def converted_model(ref, source, prefix):
    sd = {prefix + k: v for k, v in ref.state_dict().items()}
    kwargs, out, dropped = convert(sd, source)
    model = StackedHourglass(**kwargs).eval()
    model.load_state_dict(out, strict=True)
    return model, kwargs, dropped


def test_princeton_vl_posenet_converts_exactly():
    torch.manual_seed(0)
    ref = PVPoseNet(2, 256, 16).eval()
    model, kwargs, dropped = converted_model(ref, 'pv', 'model.module.')
    assert kwargs == dict(num_stacks=2, num_keypoints=16, feat_channels=256,
                          depth=4)
    # every Residual with equal widths carries an unused skip layer
    assert dropped and all('skip_layer' in k for k in dropped)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected, ours = ref(x), torch.stack(model(x), 1)
    assert (expected - ours).abs().max() < 1e-4


def test_princeton_vl_hg8_key_set_maps_completely():
    sd = PVPoseNet(8, 256, 16).state_dict()
    kwargs, out, dropped = convert(sd, 'pv')
    assert kwargs['num_stacks'] == 8
    net = StackedHourglass(8)  # its biases before BNs: folded
    assert len(out) + len(dropped) + len(net.dead_bias_keys) == len(sd)
    assert len(out) == len(net.state_dict())


def test_bearpaw_hg8_layout_converts_exactly():
    torch.manual_seed(0)
    ref = BPHourglassNet(num_stacks=2, num_blocks=1, num_classes=16).eval()
    model, kwargs, dropped = converted_model(ref, 'bearpaw', 'module.')
    assert kwargs['stem_channels'] == (64, 128, 256) and not dropped
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected, ours = ref(x), model(x)
    assert max((a - b).abs().max() for a, b in zip(expected, ours)) < 1e-4


def test_bearpaw_multi_block_models_are_refused_naming_tensors():
    sd = BPHourglassNet(num_stacks=2, num_blocks=2,
                        num_classes=16).state_dict()
    with pytest.raises(ConversionError, match=r'several bottlenecks per '
                       r'residual.*hg\.0\.hg\.0\.0\.1\.bn1'):
        convert(sd, 'bearpaw')


def test_other_checkpoints_are_refused():
    with pytest.raises(ConversionError, match='not a pv'):
        convert({'backbone.conv.weight': torch.zeros(1)}, 'pv')


def test_state_dicts_from_before_pytorch_041_convert():
    """No BatchNorm num_batches_tracked (PyTorch < 0.4.1): filled with 0."""
    sd = {k: v for k, v in BPHourglassNet(2, 1, 16).state_dict().items()
          if not k.endswith('num_batches_tracked')}
    kwargs, out, _ = convert(sd, 'bearpaw')
    model = StackedHourglass(**kwargs)
    model.load_state_dict(out, strict=True)
    assert all(int(v) == 0 for k, v in out.items()
               if k.endswith('num_batches_tracked'))


def convert_cli(*args):
    return subprocess.run([sys.executable, 'tools/convert_weights.py',
                           *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_cli_writes_a_checkpoint_and_config_that_run_together(
        tmp_path, mpii_root):
    """bearpaw hg_s2_b1 -> ours.pth + ours.py; tools/test.py runs the pair."""
    from mmengine.config import Config
    from mmpose.apis import init_model
    torch.manual_seed(0)
    ref = BPHourglassNet(num_stacks=2, num_blocks=1, num_classes=16)
    src, dst = tmp_path / 'bp.pth.tar', tmp_path / 'ours.pth'
    torch.save({'state_dict': {f'module.{k}': v
                               for k, v in ref.state_dict().items()},
                'epoch': 3}, src)
    r = convert_cli('bearpaw', src, dst)
    assert r.returncode == 0, r.stderr
    cfg = Config.fromfile(str(tmp_path / 'ours.py'))
    assert cfg.load_from == str(dst)
    assert cfg.model.backbone.num_stacks == cfg.model.head.num_stacks == 2
    assert cfg.model.head.loss.stack_weights == [1.0, 1.0]
    assert tuple(cfg.model.backbone.stem_channels) == (64, 128, 256)
    # bearpaw: RGB/255 minus its MPII mean, no std
    assert cfg.model.data_preprocessor.mean == [112.302, 113.22, 110.3385]
    assert cfg.model.data_preprocessor.std == [255.0, 255.0, 255.0]
    assert cfg.model.data_preprocessor.bgr_to_rgb
    init_model(cfg, str(dst), device='cpu')  # strict load
    opts = [f'{k}={v}' for k, v in mpii_cfg_options(mpii_root).items()]
    r = subprocess.run(
        [sys.executable, 'tools/test.py', str(tmp_path / 'ours.py'), str(dst),
         '--work-dir', str(tmp_path / 'test'), '--cfg-options', *opts,
         'test_dataloader.num_workers=0',
         'test_dataloader.persistent_workers=False'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'PCK@0.1' in r.stdout + r.stderr


def test_cli_pv_config_and_unreadable_sources(tmp_path):
    import argparse
    torch.manual_seed(0)
    ref = PVPoseNet(2, 256, 16)
    src, dst = tmp_path / 'pv.pt', tmp_path / 'ours.pth'
    sd = {f'model.module.{k}': v for k, v in ref.state_dict().items()}
    torch.save({'state_dict': sd}, src)
    r = convert_cli('pv', src, dst)
    assert r.returncode == 0, r.stderr
    ckpt = torch.load(dst)  # weights-only, torch's default
    model = StackedHourglass(**ckpt['meta']['backbone'])
    model.load_state_dict({k[len('backbone.'):]: v
                           for k, v in ckpt['state_dict'].items()},
                          strict=True)
    text = (tmp_path / 'ours.py').read_text()
    assert "'mean': [0.0, 0.0, 0.0]" in text and "'std': [255.0" in text

    # a trainer that pickled its argparse namespace: refused, then trusted
    torch.save({'state_dict': sd, 'args': argparse.Namespace(lr=1)}, src)
    r = convert_cli('pv', src, dst)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        f'error: {src} refers to argparse.Namespace, which a weights-only '
        'load refuses (unpickling it could run code); if you trust the file, '
        'add --trust-source']
    r = convert_cli('pv', src, dst, '--trust-source')
    assert r.returncode == 0, r.stderr

    src.write_bytes(src.read_bytes()[:100])  # truncated
    r = convert_cli('pv', src, dst)
    assert r.returncode != 0
    assert r.stderr.strip().startswith('error: cannot read checkpoint')
    assert len(r.stderr.strip().splitlines()) == 1
