"""Writing a config file: the one way the tools write configs (mixed,
converted, ablation variants), as MMEngine text configs a user can read
and edit: comments, ``_base_``, ``custom_imports``, then one
``key = value`` per top-level key."""
from pprint import pformat
from typing import Dict, Iterable, Optional


def config_text(values: Dict, base: Optional[str] = None,
                comments: Iterable[str] = (),
                imports: Iterable[str] = ('hg_plugin', )) -> str:
    """The text of a config inheriting ``base`` (a path or ``mmpose::``
    name), importing ``imports`` and setting ``values``."""
    lines = [f'# {c}' for c in comments]
    if base is not None:
        lines.append(f'_base_ = [{base!r}]')
    imports = list(imports)
    if imports:
        lines.append(f'custom_imports = dict(imports={imports!r}, '
                     'allow_failed_imports=False)')
    for key, value in values.items():
        lines.append(f'{key} = {pformat(value, width=79, sort_dicts=False)}')
    return '\n'.join(lines) + '\n'


def write_config(path: str, values: Dict, base: Optional[str] = None,
                 comments: Iterable[str] = (),
                 imports: Iterable[str] = ('hg_plugin', )) -> None:
    """Write :func:`config_text` to ``path``."""
    with open(path, 'w') as f:
        f.write(config_text(values, base, comments, imports))
