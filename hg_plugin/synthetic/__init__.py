"""Procedurally generated MPII-format data (the demo's embedded default and
the ablation benchmark). Not imported by ``import hg_plugin``: training
configs register no generator, and cv2/scipy drawing code stays off their
import path."""
from .dataset import VERSIONS, make_synthetic_mpii
from .figure import make_sample

__all__ = ['VERSIONS', 'make_sample', 'make_synthetic_mpii']
