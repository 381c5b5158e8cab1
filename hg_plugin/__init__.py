"""hg_plugin: Newell et al.'s Stacked Hourglass network as an MMPose 1.x plugin.

``custom_imports = dict(imports=['hg_plugin'], allow_failed_imports=False)``
in a config registers the models, transforms, metrics and hooks below in
MMPose's registries and applies the few toolbox fixes MMPose's own entry
points need (:mod:`hg_plugin.runtime`, once, version-gated).
:func:`config_path` finds the configs shipped with the package.

The layers, bottom up (a test enforces them: imports only go down):
``version``, ``shipped_configs``, ``config_file`` (leaves) <- ``models``,
``datasets``, ``evaluation`` <- ``checks``, ``checkpoints``, ``synthetic``
<- ``engine``, ``apis``, ``mix`` <- ``presets``, ``runtime`` <- this face.
"""
import os

# albumentations (MMPose's RTMPose pipelines) asks PyPI for a newer version
# each time it is imported: a network call in every run and data worker
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

try:
    import mmpose  # noqa: F401,E402
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        'hg_plugin needs MMPose 1.3 (pip install --no-deps mmpose==1.3.2 plus '
        'its runtime packages, as tools/setup_env.sh does)') from e

from . import checkpoints  # noqa: F401,E402  (registers the mismatch hint)
from . import runtime  # noqa: E402
from .datasets import *  # noqa: F401,F403,E402
from .engine import *  # noqa: F401,F403,E402
from .evaluation import MpiiPCKhCurve  # noqa: F401,E402
from .models import *  # noqa: F401,F403,E402
from .shipped_configs import config_dir, config_path  # noqa: F401,E402
from .version import __version__  # noqa: F401,E402

runtime.apply()
