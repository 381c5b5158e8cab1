"""Does the head's output have the shape the codec's targets have? One
forward of a zero batch at the codec's input size through backbone, neck
and head, before the first training step, so that a hand-written mix (an
MMPose head on the hourglass) stops with the key to change instead of a
size mismatch inside the loss."""
from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn

from ..models.backbones import StackedHourglass

# heads whose outputs are heatmaps at the codec's heatmap_size
HEATMAP_HEADS = ('HeatmapHead', 'ViPNASHead', 'CPMHead', 'MSPNHead',
                 'StackedHeatmapHead', 'AssociativeEmbeddingHead',
                 'StackedAEHead', 'DEKRHead')
SIMCC_HEADS = ('SimCCHead', 'RTMCCHead')


def _maps(out) -> List[Tensor]:
    """Every 4-D tensor in a head's output (nested lists and tuples)."""
    if isinstance(out, Tensor):
        return [out] if out.dim() == 4 else []
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _maps(o)]
    return []


def _expected(head: nn.Module, codec) -> Optional[Tuple[str, tuple]]:
    """('heatmaps', (H, W)) or ('simcc', (W bins, H bins)) per the codec."""
    name = type(head).__name__
    if name in HEATMAP_HEADS and getattr(codec, 'heatmap_size', None):
        w, h = codec.heatmap_size
        return 'heatmaps', (int(h), int(w))
    if name in SIMCC_HEADS and hasattr(codec, 'simcc_split_ratio'):
        w, h = codec.input_size
        r = codec.simcc_split_ratio
        return 'simcc', (int(w * r), int(h * r))
    return None


def _hint(head: nn.Module, got: tuple, want: tuple) -> str:
    deconv = getattr(head, 'deconv_layers', None)
    has_deconv = isinstance(deconv, nn.Sequential) and len(deconv) > 0
    if has_deconv and got[0] > want[0]:
        return ('its deconvolutions upsample features that StackedHourglass '
                'already gives at 1/4: set model.head.deconv_out_channels='
                'None and model.head.deconv_kernel_sizes=None')
    return (f'set the codec\'s heatmap_size to {(got[1], got[0])} '
            '(model.head.decoder and the GenerateTarget encoder) or change '
            'the head')


def check_output_shapes(model: nn.Module) -> Optional[str]:
    """One line naming the key to change when ``model`` (a pose estimator
    with a StackedHourglass backbone) produces outputs whose shape does not
    match its head's codec, or cannot take the backbone's features at all;
    None when they match or cannot be checked (another backbone, no codec,
    a head family not known here)."""
    model = getattr(model, 'module', model)  # DDP-wrapped or not
    head = getattr(model, 'head', None)
    codec = getattr(head, 'decoder', None)
    if not isinstance(getattr(model, 'backbone', None), StackedHourglass) \
            or codec is None or not getattr(codec, 'input_size', None):
        return None
    expected = _expected(head, codec)
    w, h = codec.input_size
    param = next(model.parameters())
    x = torch.zeros(1, 3, int(h), int(w), device=param.device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model._forward(x)
    except (RuntimeError, ValueError) as e:
        why = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return (f'model.head ({type(head).__name__}) cannot take '
                f'StackedHourglass features at input {int(w)}x{int(h)} '
                f'({why[:160]}): check model.head.in_channels (= the '
                'backbone\'s feat_channels) and, for heads that need it, '
                f'in_featuremap_size={(int(w) // 4, int(h) // 4)}')
    finally:
        model.train(was_training)
    if expected is None or (getattr(model, 'test_cfg', None) or {}).get(
            'restore_heatmap_size'):
        return None  # bottom-up decoding after resizing maps to the input
    kind, want = expected
    if kind == 'heatmaps':
        for t in _maps(out):
            got = tuple(t.shape[-2:])
            if got != want:
                return (f'model.head ({type(head).__name__}) outputs '
                        f'{got[0]}x{got[1]} heatmaps but the codec expects '
                        f'{want[0]}x{want[1]} (heatmap_size='
                        f'{(want[1], want[0])}): {_hint(head, got, want)}')
    else:
        pred_x, pred_y = out[:2]
        got = (pred_x.shape[-1], pred_y.shape[-1])
        if got != want:
            quarter = (int(w) // 4, int(h) // 4)
            return (f'model.head ({type(head).__name__}) outputs {got[0]}/'
                    f'{got[1]} x/y bins but the codec expects {want[0]}/'
                    f'{want[1]} (input_size x simcc_split_ratio): set '
                    f'model.head.in_featuremap_size={quarter} and '
                    'model.head.input_size to the codec\'s input_size')
    return None
