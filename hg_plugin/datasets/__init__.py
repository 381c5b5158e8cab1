from .sample_seeding import (SampleKey, SeedAugmentation, SeededSampler,
                             sample_seed)
from .synthetic_mpii import (approx_head_boxes, make_synthetic_mpii,
                             write_headboxes)
from .transforms import VerifiedLoadImage

__all__ = [
    'SampleKey', 'SeedAugmentation', 'SeededSampler', 'VerifiedLoadImage',
    'sample_seed', 'approx_head_boxes', 'make_synthetic_mpii',
    'write_headboxes'
]
