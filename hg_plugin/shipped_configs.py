"""Where configs live: hg_plugin's own (``config_path('hg8_mpii_256')``)
and MMPose's (``mmpose::<path>``, inside the installed package, as MMEngine
resolves them). The one place both are looked up; it imports nothing of
hg_plugin."""
import os.path as osp

MMPOSE_PREFIX = 'mmpose::'


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


def mmpose_dir(*parts: str) -> str:
    """A path inside the installed MMPose's ``.mim`` folder (its configs,
    tools and demos)."""
    import mmpose  # here: config_path() works without MMPose installed
    return osp.join(osp.dirname(mmpose.__file__), '.mim', *parts)


def resolve_config(config: str) -> str:
    """A file path for ``config``: itself, or ``mmpose::<path>`` inside the
    installed MMPose's configs. Existence is the caller's to check."""
    if config.startswith(MMPOSE_PREFIX):
        return mmpose_dir('configs', config[len(MMPOSE_PREFIX):])
    return config
