"""Swap the stacked hourglass into an MMPose config, or check that it swaps
into all of MMPose's shipped 2D configs.

    python tools/mix_config.py mmpose::animal_2d_keypoint/topdown_heatmap/ap10k/td-hm_hrnet-w32_8xb64-210e_ap10k-256x256.py \\
        [--stacks 2] [--feat-channels 256] [--head auto|stacked|keep] -o work_dirs/hg2_ap10k.py
    python tools/mix_config.py --sweep [--all] [--report docs/mix_sweep.md]

The written config inherits the given one (a path or ``mmpose::...``) and
lists what the swap changed (hg_plugin.mix). ``--sweep`` takes one shipped
2D config per distinct (dataset, codec, head, neck) - ``--all``: every one -,
mixes it, builds the model and runs one forward + backward on a synthetic
batch made by the config's own target pipeline; configs that cannot take a
single-scale backbone are listed with the reason. Exit status 1 if any
config failed.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
import time
import warnings

from _cli import guard_outputs, record_outputs
from mmengine.config import Config

import hg_plugin  # noqa: F401  (registers the modules)
from hg_plugin.mix import (MixError, mixed_config, train_step_check,
                           write_mixed_config)
from hg_plugin.shipped_configs import mmpose_dir, resolve_config

TOOL = 'tools/mix_config.py'


def shipped_configs():
    """MMPose's shipped 2D configs (relative to its configs folder)."""
    root = mmpose_dir('configs')
    files = glob.glob(osp.join(root, '*_2d_keypoint', '**', '*.py'),
                      recursive=True)
    return root, sorted(osp.relpath(f, root) for f in files)


def family(cfg) -> tuple:
    """(dataset, codec, head, neck) of a config."""
    model = cfg.model
    head = model.get('head') or {}
    codec = head.get('decoder')
    return (cfg.train_dataloader.dataset.type,
            codec.get('type') if isinstance(codec, dict) else None,
            head.get('type', model.type), (model.get('neck') or {}).get('type'))


def sweep(select_all: bool, feat_channels: int, stacks: int):
    root, names = shipped_configs()
    seen, rows = set(), []
    for name in names:
        try:
            cfg = Config.fromfile(osp.join(root, name))
            key = family(cfg)
        except Exception as e:  # noqa: BLE001 - MMPose's own config is broken
            rows.append(dict(config=name, status='unsupported',
                             why=f'the shipped config does not load: '
                             f'{type(e).__name__}: {str(e)[:120]}'))
            continue
        if not select_all and key in seen:
            continue
        seen.add(key)
        row = dict(config=name, family=list(map(str, key)))
        start = time.time()
        try:
            if 'head' not in cfg.model:
                raise MixError(f'{cfg.model.type} is a distillation wrapper '
                               'of two whole models, not one model')
            mixed = mixed_config(cfg, num_stacks=stacks,
                                 feat_channels=feat_channels)
            losses = train_step_check(mixed)
            row.update(status='ok', losses={k: round(v, 5) for k, v in
                                            losses.items()})
        except MixError as e:
            row.update(status='unsupported', why=str(e))
        except Exception as e:  # noqa: BLE001 - reported, counted as failed
            row.update(status='failed', why=f'{type(e).__name__}: {e}'[:300])
        row['seconds'] = round(time.time() - start, 1)
        rows.append(row)
        print(f"{row['status']:11s} {name} {row.get('why', '')}", flush=True)
    return rows


def report(rows, select_all: bool) -> str:
    count = {s: sum(r['status'] == s for r in rows)
             for s in ('ok', 'unsupported', 'failed')}
    lines = ['# Hourglass swapped into MMPose\'s shipped 2D configs',
             '',
             f'{"Every config" if select_all else "One config per distinct (dataset, codec, head, neck)"}'
             f': {len(rows)} configs - {count["ok"]} trained one synthetic '
             f'step, {count["unsupported"]} cannot take a single-scale '
             f'backbone, {count["failed"]} failed.', '',
             '| config | status | why |', '|---|---|---|']
    for r in rows:
        if r['status'] != 'ok':
            lines.append(f"| `{r['config']}` | {r['status']} | "
                         f"{r.get('why', '')} |")
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', nargs='?', help='MMPose config (path or '
                   'mmpose::...)')
    p.add_argument('-o', '--out', help='where to write the mixed config')
    p.add_argument('--stacks', type=int, default=2)
    p.add_argument('--feat-channels', type=int, default=256)
    p.add_argument('--head', choices=['auto', 'stacked', 'keep'],
                   default='auto', help='stacked: StackedHeatmapHead (heatmap '
                   "heads); keep: the config's own head on the last stack; "
                   'auto: stacked for heatmap heads, else keep')
    p.add_argument('--sweep', action='store_true',
                   help="check the swap on MMPose's shipped 2D configs")
    p.add_argument('--all', action='store_true', help='--sweep: every '
                   'config, not one per distinct family')
    p.add_argument('--report', help='--sweep: write a markdown table here '
                   '(and the rows as JSON beside it)')
    p.add_argument('--force', action='store_true',
                   help='overwrite an existing file this tool did not write')
    args = p.parse_args()
    warnings.simplefilter('ignore')
    if args.sweep:
        outputs = [args.report, osp.splitext(args.report)[0] + '.json'] \
            if args.report else []
        guard_outputs(outputs, [], TOOL, args.force, '--report')
        rows = sweep(args.all, args.feat_channels, args.stacks)
        text = report(rows, args.all)
        print(text)
        if args.report:
            os.makedirs(osp.dirname(osp.abspath(args.report)), exist_ok=True)
            with open(args.report, 'w') as f:
                f.write(text)
            with open(outputs[1], 'w') as f:
                json.dump(rows, f, indent=1)
            record_outputs(outputs, TOOL)
        sys.exit(1 if any(r['status'] == 'failed' for r in rows) else 0)
    if not (args.config and args.out):
        p.error('give CONFIG and -o OUT (or --sweep)')
    guard_outputs([args.out], [resolve_config(args.config)], TOOL,
                  args.force, '-o')
    try:
        changes = write_mixed_config(args.config, args.out,
                                     num_stacks=args.stacks,
                                     feat_channels=args.feat_channels,
                                     head=args.head)
    except MixError as e:
        sys.exit(f'error: {args.config}: {e}')
    record_outputs([args.out], TOOL)
    print(f'wrote {args.out}:')
    for change in changes:
        print(f'  - {change}')


if __name__ == '__main__':
    main()
