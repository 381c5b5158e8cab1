"""hg_plugin: Newell et al.'s Stacked Hourglass network as an MMPose 1.x plugin.

``custom_imports = dict(imports=['hg_plugin'], allow_failed_imports=False)``
in a config registers the models below in MMPose's ``MODELS`` registry.
"""
from . import compat  # noqa: F401  (applies the toolbox fixes once)
from .datasets import VerifiedLoadImage  # noqa: F401
from .engine import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403

__version__ = '0.1.0'
