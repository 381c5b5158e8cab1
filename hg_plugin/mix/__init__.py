"""Swap the stacked hourglass into any MMPose 2D config: the rules
(:mod:`.rules`), the config walkers they use (:mod:`.config_walk`), and a
synthetic training step that checks the result (:mod:`.step_check`)."""
from .rules import (MixError, hourglass_depth, load, mix_overrides,
                    mixed_config, num_keypoints, resolve, write_mixed_config)
from .step_check import synthetic_sample, train_step_check

__all__ = [
    'MixError', 'hourglass_depth', 'load', 'mix_overrides', 'mixed_config',
    'num_keypoints', 'resolve', 'synthetic_sample', 'train_step_check',
    'write_mixed_config'
]
