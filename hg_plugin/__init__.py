"""hg_plugin: Newell et al.'s Stacked Hourglass network as an MMPose 1.x plugin.

``custom_imports = dict(imports=['hg_plugin'], allow_failed_imports=False)``
in a config registers the models, transforms and hooks below in MMPose's
registries and applies the few toolbox fixes MMPose's own entry points need
(:mod:`hg_plugin.runtime`, once, version-gated). :func:`config_path` finds
the configs shipped with the package.
"""
import os.path as osp

try:
    import mmpose  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        'hg_plugin needs MMPose 1.3 (pip install --no-deps mmpose==1.3.2 plus '
        'its runtime packages, as tools/setup_env.sh does)') from e

from . import runtime  # noqa: E402
from .datasets import VerifiedLoadImage  # noqa: F401,E402
from .engine import *  # noqa: F401,F403,E402
from .evaluation import MpiiPCKhCurve  # noqa: F401,E402
from .models import *  # noqa: F401,F403,E402
from .version import __version__  # noqa: F401,E402

runtime.apply()


def config_dir() -> str:
    """The folder of hg_plugin's configs: ``hg_plugin/.mim/configs`` in an
    installed package (as MMPose ships its own), ``configs/`` beside the
    package in a source checkout or an editable install."""
    here = osp.dirname(osp.abspath(__file__))
    for path in (osp.join(here, '.mim', 'configs'),
                 osp.join(osp.dirname(here), 'configs')):
        if osp.isdir(path):
            return path
    raise FileNotFoundError(f'hg_plugin configs not found beside {here}')


def config_path(name: str) -> str:
    """Path of a shipped config, e.g. ``config_path('hg8_mpii_256')`` or
    ``config_path('mix/hg2_coco-wholebody_256x192.py')``."""
    path = osp.join(config_dir(), name if name.endswith('.py') else
                    f'{name}.py')
    if not osp.isfile(path):
        raise FileNotFoundError(f'no hg_plugin config {name!r} in '
                                f'{config_dir()}')
    return path
