from .pack_ae_inputs import PackAEInputs
from .sample_seeding import (SampleKey, SeedAugmentation, SeededSampler,
                             sample_seed)
from .synthetic_mpii import (approx_head_boxes, make_synthetic_mpii,
                             write_headboxes)
from .transforms import VerifiedLoadImage

__all__ = [
    'PackAEInputs', 'SampleKey', 'SeedAugmentation', 'SeededSampler', 'VerifiedLoadImage',
    'sample_seed', 'approx_head_boxes', 'make_synthetic_mpii',
    'write_headboxes'
]
