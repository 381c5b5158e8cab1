from .head_boxes import approx_head_boxes, write_headboxes
from .pack_ae_inputs import PackAEInputs
from .sample_seeding import (SampleKey, SeedAugmentation, SeededSampler,
                             sample_seed)
from .transforms import VerifiedLoadImage

__all__ = [
    'PackAEInputs', 'SampleKey', 'SeedAugmentation', 'SeededSampler',
    'VerifiedLoadImage', 'approx_head_boxes', 'sample_seed', 'write_headboxes'
]
