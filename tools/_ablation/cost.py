"""Step time and peak activation memory of a variant's training step, for
the backward question: the saved-for-backward tensors autograd holds at
their peak (counted once per storage, parameters excluded) - the memory a
per-stack backward frees - and the median step time, plain and per-stack
runs alternating in one process."""
import statistics
import time
from typing import Dict, List

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

from _bench.measure import fake_batch


class SavedTensors:
    """``torch.autograd.graph.saved_tensors_hooks`` that track the bytes of
    saved tensors alive at once (``peak``)."""

    def __init__(self, skip: set):
        self.skip, self.refs, self.live, self.peak = skip, {}, 0, 0

    def pack(self, t: torch.Tensor):
        ptr = t.untyped_storage().data_ptr()
        if ptr in self.skip:
            return t
        count, size = self.refs.get(ptr, (0, t.untyped_storage().nbytes()))
        if count == 0:
            self.live += size
            self.peak = max(self.peak, self.live)
        self.refs[ptr] = (count + 1, size)
        return _Held(t, ptr, self)

    @staticmethod
    def unpack(held):
        return held.tensor if isinstance(held, _Held) else held

    def release(self, ptr: int) -> None:
        count, size = self.refs[ptr]
        self.refs[ptr] = (count - 1, size)
        if count == 1:
            self.live -= size


class _Held:
    def __init__(self, tensor, ptr, owner):
        self.tensor, self.ptr, self.owner = tensor, ptr, owner

    def __del__(self):
        self.owner.release(self.ptr)


def step_costs(configs: Dict[str, str], batch: int, repeat: int = 5
               ) -> Dict[str, Dict]:
    """name -> dict(step_ms, activation_mib) for each variant config."""
    init_default_scope('mmpose')
    built = {}
    for name, path in configs.items():
        cfg = Config.fromfile(path)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model).train()
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        built[name] = (model, wrapper, fake_batch(cfg, batch, 'cpu'))
    peaks = {}
    for name, (model, wrapper, data) in built.items():  # also warms up
        saved = SavedTensors({p.untyped_storage().data_ptr()
                              for p in model.parameters()})
        with torch.autograd.graph.saved_tensors_hooks(saved.pack,
                                                      saved.unpack):
            model.train_step(data, wrapper)
        peaks[name] = saved.peak
    times: Dict[str, List[float]] = {n: [] for n in built}
    for _ in range(repeat):  # timed without the hooks, alternating
        for name, (model, wrapper, data) in built.items():
            start = time.perf_counter()
            model.train_step(data, wrapper)
            times[name].append(time.perf_counter() - start)
    return {n: dict(step_ms=1000 * statistics.median(times[n]),
                    activation_mib=peaks[n] / 2 ** 20) for n in built}
