"""What the benchmark measures: the models (ours and MMPose's zoo, by
config), the settings variants, the accuracy each model is known for, and
the machine."""
import glob
import os
import os.path as osp
import platform
import re

import torch
import yaml

from hg_plugin.engine import amp_dtype_for
from hg_plugin.presets import fast_settings
from hg_plugin.shipped_configs import resolve_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ZOO = 'mmpose::body_2d_keypoint/topdown_heatmap/'
# name: (config, accuracy source); accuracy: MPII PCKh@0.5 (val, "Mean") or
# COCO AP, from the zoo's metafile, or the paper (MPII test set) for hg8.
MODELS = {
    'hg1': ('configs/hg1_mpii_256.py', None),
    'hg2': ('configs/hg2_mpii_256.py', None),
    'hg4': ('configs/hg4_mpii_256.py', None),
    'hg8': ('configs/hg8_mpii_256.py', ('MPII PCKh', 0.909, 'paper')),
    'hourglass52-mpii':
    (ZOO + 'mpii/td-hm_hourglass52_8xb64-210e_mpii-256x256.py', 'zoo'),
    'hourglass52-coco':
    (ZOO + 'coco/td-hm_hourglass52_8xb32-210e_coco-256x256.py', 'zoo'),
    'res50-mpii': (ZOO + 'mpii/td-hm_res50_8xb64-210e_mpii-256x256.py', 'zoo'),
    'hrnet-w32-mpii':
    (ZOO + 'mpii/td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py', 'zoo'),
}
# Variants: the config as shipped ('plain'), the one-flag preset ('fast',
# hg_plugin.presets for the device) and channels-last + AMP ('cl-amp') for
# every model, so comparisons are at equal settings ('fast' also turns on
# cudnn.benchmark on CUDA, as the preset does); for hg8 also each
# option on its own. Keys: ours = StackedHourglass arguments; amp = autocast
# dtype ('auto': the device's); nhwc = feed an NHWC batch permuted to NCHW
# (as the reference code feeds its network); fold_bn / onnx / cuda_graph
# are inference-only.
EVERY_MODEL = ('plain', 'fast', 'cl-amp')
VARIANTS = {
    'plain': {},
    'fast': dict(preset='fast'),
    'cl-amp': dict(channels_last=True, amp='auto'),
    'nchw': dict(ours=dict(channels_last=False, merge='sum')),
    'reference-layout': dict(ours=dict(channels_last=False, merge='sum'),
                             nhwc=True),
    'merge-sum': dict(ours=dict(merge='sum')),
    'amp-bf16': dict(amp='bfloat16'),
    'amp-fp16': dict(amp='float16', cuda_only=True),
    'compile': dict(compile=True),
    'compile-amp': dict(compile=True, amp='auto'),
    'fold-bn': dict(fold_bn=True, train=False),
    'fold-bn-amp': dict(fold_bn=True, amp='auto', train=False),
    'onnxruntime': dict(onnx=True, train=False),
    'cuda-graph': dict(amp='auto', cuda_graph=True, train=False,
                       cuda_only=True),
    # Speed III's captured step (CapturedTrainStep, --captured-step) and
    # its eager twin at the same settings: bf16 (no loss scaler), channels-
    # last, cudnn.benchmark; on a CPU the captured one runs eagerly
    'eager-bf16': dict(channels_last=True, amp='bfloat16',
                       cudnn_benchmark=True, infer=False),
    'captured-bf16': dict(channels_last=True, amp='bfloat16',
                          cudnn_benchmark=True, captured=True, infer=False),
    # Speed III's fused BN + ReLU (hg8 only), alone and with the capture
    'fused-bf16': dict(ours=dict(fused_bn_relu=True), channels_last=True,
                       amp='bfloat16', cudnn_benchmark=True, infer=False),
    'captured-fused-bf16': dict(ours=dict(fused_bn_relu=True),
                                channels_last=True, amp='bfloat16',
                                cudnn_benchmark=True, captured=True,
                                infer=False),
    'with_cp': dict(ours=dict(with_cp=True), infer=False),
    'stagewise': dict(stagewise=True, infer=False),
}
HG8_VARIANTS = [v for v in VARIANTS if v not in EVERY_MODEL]


def config_path(config):
    """A repository path, or ``mmpose::...`` inside the installed MMPose."""
    return resolve_config(config) if config.startswith('mmpose::') else \
        osp.join(REPO, config)


def settings(variant, device):
    """The variant's settings, with 'fast' and amp='auto' resolved."""
    s = dict(VARIANTS[variant])
    if s.pop('preset', None):
        fast = fast_settings(device)
        s.update(channels_last=fast['channels_last'], amp=fast['amp'],
                 cudnn_benchmark=fast['cudnn_benchmark'])
    if s.get('amp') == 'auto':
        s['amp'] = amp_dtype_for(device)
    return s


def zoo_accuracy(config):
    """The zoo's published number for ``config``, from MMPose's metafile."""

    path = config_path(config)
    for yml in glob.glob(osp.join(osp.dirname(path), '*.yml')):
        with open(yml) as f:
            for entry in yaml.safe_load(f).get('Models', []):
                if entry.get('Config', '').endswith(osp.basename(path)):
                    metrics = entry['Results'][0]['Metrics']
                    if 'Mean' in metrics:
                        return 'MPII PCKh', metrics['Mean'], osp.basename(yml)
                    return 'COCO AP', metrics['AP'], osp.basename(yml)
    return None


def machine(device):
    if device == 'cuda':
        return f'{torch.cuda.get_device_name(0)}, torch {torch.__version__}'
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = re.search(r'model name\s*:\s*(.*)', f.read()).group(1)
    except (OSError, AttributeError):
        pass
    return (f'{cpu}, {os.cpu_count()} cores, torch {torch.__version__} '
            f'({torch.get_num_threads()} threads)')
