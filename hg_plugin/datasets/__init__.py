from .synthetic_mpii import make_synthetic_mpii, write_headboxes
from .transforms import VerifiedLoadImage

__all__ = ['VerifiedLoadImage', 'make_synthetic_mpii', 'write_headboxes']
