"""The package's import graph is its layer plan: every import inside
hg_plugin (function-level ones included) goes down a layer or stays in its
own folder, no module imports itself back through a chain, and an import
inside a function says why on its line."""
import ast
import shutil
from collections import defaultdict

import pytest

from tests.conftest import REPO

PACKAGE = REPO / 'hg_plugin'
# bottom (0) to top: a room may import rooms of lower layers only
LAYERS = {
    'version': 0, 'shipped_configs': 0, 'config_file': 0, 'pipelines': 0,
    'model_configs': 0,
    'models': 1, 'datasets': 1, 'evaluation': 1,
    'checks': 2, 'checkpoints': 2, 'synthetic': 2,
    'engine': 3, 'apis': 3, 'mix': 3,
    'presets': 4, 'runtime': 4,
    '__init__': 5,
}


def modules(package):
    """'hg_plugin.x.y' -> path, for every module of ``package``."""
    found = {}
    for path in package.rglob('*.py'):
        parts = ['hg_plugin', *path.relative_to(package).with_suffix('')
                 .parts]
        if parts[-1] == '__init__':
            parts.pop()
        found['.'.join(parts)] = path
    return found


def room(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else '__init__'


def imports(package):
    """(module, imported hg_plugin module, line, at top level) for every
    import in ``package``, relative ones resolved; ``from X import name``
    counts as importing ``X.name`` where that is a module."""
    known = modules(package)
    for module, path in known.items():
        pkg = module if path.name == '__init__.py' else \
            module.rpartition('.')[0]
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    anchor = pkg.split('.')
                    anchor = anchor[:len(anchor) - (node.level - 1)]
                    base = '.'.join(anchor + ([base] if base else []))
                names = [f'{base}.{a.name}' if f'{base}.{a.name}' in known
                         else base for a in node.names]
            else:
                continue
            for name in names:
                if name == 'hg_plugin' or name.startswith('hg_plugin.'):
                    while name not in known:
                        name = name.rpartition('.')[0]
                    yield module, name, node.lineno, id(node) in top


def upward_imports(package):
    return [f'{module}:{line} imports {target} (layer {LAYERS[room(target)]}'
            f' >= {room(module)}\'s {LAYERS[room(module)]})'
            for module, target, line, _ in imports(package)
            if room(module) != room(target)
            and LAYERS[room(target)] >= LAYERS[room(module)]]


def cycles(package):
    edges = defaultdict(set)
    for module, target, _, _ in imports(package):
        if target != module:
            edges[module].add(target)
    state, found = {}, []

    def visit(node, stack):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 'open':
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 'done'

    for node in sorted(modules(package)):
        if node not in state:
            visit(node, [])
    return [' -> '.join(c) for c in found]


def test_every_room_has_a_layer():
    assert {room(m) for m in modules(PACKAGE)} <= set(LAYERS), \
        'a new top-level module or folder: give it a layer in LAYERS'


def test_imports_only_go_down():
    assert not upward_imports(PACKAGE), '\n'.join(upward_imports(PACKAGE))


def test_no_import_cycles():
    assert not cycles(PACKAGE), '\n'.join(cycles(PACKAGE))


def test_models_import_nothing_else_of_the_package():
    others = [(m, t) for m, t, _, _ in imports(PACKAGE)
              if room(m) == 'models' and room(t) != 'models']
    assert not others


def test_imports_inside_functions_say_why():
    silent = []
    for path in PACKAGE.rglob('*.py'):
        lines = path.read_text().splitlines()
        tree = ast.parse('\n'.join(lines))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and \
                    id(node) not in top and '#' not in lines[node.lineno - 1]:
                silent.append(f'{path.relative_to(REPO)}:{node.lineno}')
    assert not silent, 'function-level imports without a reason: ' + \
        ', '.join(silent)


@pytest.mark.parametrize('rel, text, finds', [
    ('models/fold_bn.py', 'from ..checks import check_config\n', 'upward'),
    ('datasets/transforms.py',
     'def f():\n    from ..engine import ConfigCheckHook  # x\n', 'upward'),
    ('checks/metainfo.py', 'from .config import check_config\n', 'cycle'),
])
def test_the_walk_finds_what_it_guards_against(tmp_path, rel, text, finds):
    """An upward import (module level or in a function) and a cycle, added
    to a copy of the package, are found."""
    copy = tmp_path / 'hg_plugin'
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns(
        '__pycache__', '.mim'))
    assert not upward_imports(copy) and not cycles(copy)
    with open(copy / rel, 'a') as f:
        f.write('\n' + text)
    found = upward_imports(copy) if finds == 'upward' else cycles(copy)
    assert found and rel.split('/')[0] in found[0]
