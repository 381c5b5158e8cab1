"""Mixed precision that also trains on a CPU-only machine."""
import warnings

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmpose.registry import OPTIM_WRAPPERS


def amp_dtype_for(device: str) -> str:
    """The autocast dtype of ``'auto'`` on ``device``, the one rule behind
    ``--amp``, ``--preset fast`` and ``DeviceAmpOptimWrapper(dtype='auto')``:

    - ``'cuda'``: float16 with dynamic loss scaling: hg8 trains and infers
      faster in fp16 than in bf16 on the H100 measured
      (benchmarks/cuda/benchmark.json, docs/speed.md "Which AMP dtype");
      every CUDA GPU has fp16 tensor cores, bf16 only from Ampere on.
    - ``'cpu'``: bfloat16, the CPU's only autocast dtype.
    """
    return 'float16' if device == 'cuda' else 'bfloat16'


@OPTIM_WRAPPERS.register_module()
class DeviceAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's ``AmpOptimWrapper`` where there is an accelerator; on a
    CPU-only machine (where MMEngine's asserts one) bfloat16 autocast with
    the loss scaler disabled, which bfloat16 does not need. fp16 on the CPU
    is refused with a message.

    Args: as ``AmpOptimWrapper`` (``loss_scale``, ``dtype``, ...), and
    ``dtype='auto'``: :func:`amp_dtype_for` the device.
    """

    def __init__(self, loss_scale='dynamic', dtype=None, **kwargs):
        if dtype == 'auto':
            dtype = amp_dtype_for(
                'cuda' if torch.cuda.is_available() else 'cpu')
        if torch.cuda.is_available():
            super().__init__(loss_scale=loss_scale, dtype=dtype, **kwargs)
            return
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(
                f'optim_wrapper.dtype={dtype!r} needs a GPU; on the CPU '
                "autocast runs bfloat16 only: set optim_wrapper.dtype="
                "'bfloat16' (or train with --amp bf16).")
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # "GradScaler is disabled"
            self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
