from .synthetic_mpii import make_synthetic_mpii, write_headboxes

__all__ = ['make_synthetic_mpii', 'write_headboxes']
