from .synthetic_mpii import (approx_head_boxes, make_synthetic_mpii,
                             write_headboxes)
from .transforms import VerifiedLoadImage

__all__ = [
    'VerifiedLoadImage', 'approx_head_boxes', 'make_synthetic_mpii',
    'write_headboxes'
]
