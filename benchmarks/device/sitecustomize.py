"""Loaded by Python on a GPU machine through PYTHONPATH (see run.sh).

That machine's image has torch but not MMCV's compiled ops, and the pure-
Python OpenMMLab packages carried there cannot bring their compiled helpers
(xtcocotools, pycocotools, shapely: built here for another Python). The
benchmark only builds and times models; none of these is called, but some
are imported at module level on the way to ``mmpose.models``. This finder
answers those imports with inert modules; calling anything from them raises.
Never used by the plugin itself, its tests or CI.
"""
import importlib.abc
import importlib.machinery
import sys
import types

# not mmcv._ext: mmengine's mmcv_full_available() looks for it, and where it
# answers, revert_sync_batchnorm takes mmcv.ops.SyncBatchNorm for a class
STUBBED = ('mmcv.ops', 'xtcocotools', 'pycocotools', 'shapely')


class _Missing:
    def __init__(self, name):
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f'{self.__name__} is not available on this '
                           'benchmark machine (stubbed by sitecustomize)')

    def __getattr__(self, attr):
        return _Missing(f'{self.__name__}.{attr}')

    def __mro_entries__(self, bases):  # `class X(stub.Base)` still works
        return (object, )


class _StubModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        return _Missing(f'{self.__name__}.{attr}')


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if any(name == s or name.startswith(s + '.') for s in STUBBED):
            return importlib.machinery.ModuleSpec(name, self,
                                                  is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _StubFinder())
