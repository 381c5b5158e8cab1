"""Swap the stacked hourglass into an MMPose config, or check that it swaps
into all of MMPose's shipped 2D configs.

    python tools/mix_config.py mmpose::animal_2d_keypoint/topdown_heatmap/ap10k/td-hm_hrnet-w32_8xb64-210e_ap10k-256x256.py \\
        [--stacks 2] [--feat-channels 256] [--head auto|stacked|keep] -o work_dirs/hg2_ap10k.py
    python tools/mix_config.py --sweep [--all] [--report docs/mix_sweep.md]
    python tools/mix_config.py --sweep --real --feat-channels 64 --report docs/mix_sweep.md

The written config inherits the given one (a path or ``mmpose::...``) and
lists what the swap changed (hg_plugin.mix). ``--sweep`` takes one shipped
2D config per distinct (dataset, codec, head, neck) - ``--all``: every one -,
mixes it, builds the model and runs one forward + backward on a synthetic
batch made by the config's own target pipeline; configs that cannot take a
single-scale backbone are listed with the reason. ``--real`` then runs each
mixed config on the real samples of tests/data through MMPose's own
tools/train.py (its whole training pipeline, one epoch of batch 2,
validation with its own metric), tools/test.py and MMPoseInferencer, and
reports each stage (tools/_sweep); ``--learn ITERS`` adds whether each
passed config learns (overfits the samples: tools/_sweep/learn.py), and
``--learn-zoo`` the same check on the shipped config itself, its own
backbone from scratch, beside it. Exit status 1 if any mixed config
failed.
"""
import argparse
import glob
import json
import os
import re
import os.path as osp
import sys
import time
import warnings

import mmpose
from _cli import guard_outputs, record_outputs
from _sweep.learn import describe, learns
from _sweep.real import STAGES, real_stages
from mmengine.config import Config
from tqdm import tqdm

import hg_plugin  # (registers the modules; rows record its version)
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


def sweep(select_all: bool, feat_channels: int, stacks: int,
          real: bool = False, work_dir: str = 'work_dirs/mix_sweep',
          only=None, on_row=None, learn: int = 0, learn_zoo=False):
    """Mix one shipped config per family (every config with
    ``select_all``): build it and run one synthetic step; with ``real``
    also run it through MMPose's own tools on real samples
    (:func:`_sweep.real.real_stages`). Finished configs of an earlier
    ``real`` run in ``work_dir`` are reused. ``learn``: that many
    iterations of the learning check (:mod:`_sweep.learn`) for each config
    that passed every real stage; ``learn_zoo``: also for the shipped
    config itself (its own backbone, random weights) under the same
    check."""
    root, names = shipped_configs()
    seen, rows = set(), []
    chosen = []
    for name in names:
        if only and not any(o in name for o in only):
            continue
        try:
            cfg = Config.fromfile(osp.join(root, name))
            key = family(cfg)
        except Exception as e:  # noqa: BLE001 - MMPose's own config is broken
            why = KNOWN_UNLOADABLE.get(name.split('/')[1], '') + \
                'the shipped config does not load: ' \
                f'{type(e).__name__}: {no_machine_paths(str(e))[:120]}'
            rows.append(dict(config=name, status='unsupported', why=why))
            continue
        if not select_all and key in seen:
            continue
        seen.add(key)
        chosen.append((name, cfg, key))
    for name, cfg, key in tqdm(chosen, desc='sweep', unit='config'):
        rows.append(sweep_one(name, cfg, key, feat_channels, stacks, real,
                              work_dir, learn, learn_zoo))
        if on_row:
            on_row(rows)
    return rows


# families whose shipped config MMPose 1.3 cannot load, and what else
# stops them (said per config in the sweep)
KNOWN_UNLOADABLE = {
    'edpose': 'ED-Pose: MMPose 1.3 cannot train it (EDPoseHead.loss is not '
              'implemented: inference only), and ',
}


def no_machine_paths(text: str) -> str:
    """``text`` with this machine's install folders shown as
    ``<mmpose>/...`` (a report is read on other machines)."""
    return text.replace(osp.dirname(osp.abspath(mmpose.__file__)),
                        '<mmpose>')


def learn_cell(config_path, work, iters) -> str:
    """The report cell of the learning check of one config."""
    curve = learns(config_path, work, iters)
    return f"failed: {curve['why']}" if 'why' in curve else describe(curve)


def sweep_one(name, cfg, key, feat_channels, stacks, real, work_dir,
              learn=0, learn_zoo=False):
    row = dict(config=name, family=list(map(str, key)), stacks=stacks,
               feat_channels=feat_channels, version=hg_plugin.__version__)
    start = time.time()
    try:
        mixed = mixed_config(cfg, num_stacks=stacks,
                             feat_channels=feat_channels)
        losses = train_step_check(mixed)
        row.update(status='ok', losses={k: round(v, 5) for k, v in
                                        losses.items()})
    except MixError as e:
        row.update(status='unsupported', why=str(e))
    except Exception as e:  # noqa: BLE001 - reported, counted as failed
        row.update(status='failed', why=no_machine_paths(
            f'{type(e).__name__}: {e}')[:300])
    if real and row['status'] == 'ok':
        work = osp.join(work_dir, re.sub(r'[^\w-]', '_',
                                         osp.splitext(name)[0]))
        done = osp.join(work, 'stages.json')
        if osp.isfile(done):
            with open(done) as f:
                row['stages'] = json.load(f)
        else:
            os.makedirs(work, exist_ok=True)
            path = osp.join(work, 'mixed.py')
            write_mixed_config(f'mmpose::{name}', path, num_stacks=stacks,
                               feat_channels=feat_channels)
            row['stages'] = real_stages(path, work)
        if learn and real_status(row) == 'passed':
            row['learns'] = learn_cell(osp.join(work, 'mixed.py'),
                                       osp.join(work, 'learn'), learn)
            row['learn_iters'] = learn
            if learn_zoo:  # the zoo's own model, from scratch, beside it
                row['zoo_learns'] = learn_cell(
                    resolve_config(f'mmpose::{name}'),
                    osp.join(work, 'learn_zoo'), learn)
    row['seconds'] = round(time.time() - start, 1)
    tqdm.write(f"{row['status']:11s} {name} {row.get('why', '')} "
               f"{row.get('stages', '')}")
    return row


def real_status(row) -> str:
    """'passed', 'no samples', 'failed' or '' (not run) for a real row."""
    stages = row.get('stages')
    if not stages:
        return ''
    values = list(stages.values())
    if all(v.startswith('no samples') for v in values):
        return 'no samples'
    if len(values) == len(STAGES) and not any(
            v.startswith('failed') for v in values):
        return 'passed'
    return 'failed'


def learn_text(row, key: str) -> str:
    """A learning-check cell: 'yes (120 it.: loss ...)'."""
    text = row.get(key) or ''
    if text and 'learn_iters' in row and ' (' in text:
        verdict, rest = text.split(' (', 1)
        return f"{verdict} ({row['learn_iters']} it.: {rest}"
    return text


def report(rows, select_all: bool) -> str:
    count = {s: sum(r['status'] == s for r in rows)
             for s in ('ok', 'unsupported', 'failed')}
    what = 'Every config' if select_all else \
        'One config per distinct (dataset, codec, head, neck)'
    lines = ['# Hourglass swapped into MMPose\'s shipped 2D configs', '']
    versions = {}
    for r in rows:
        v = r.get('version', 'before 0.3 (not recorded)')
        versions[v] = versions.get(v, 0) + 1
    if len(versions) > 1:  # a --merge of an earlier sweep
        lines += ['Rows by the hg_plugin version that measured them: ' +
                  ', '.join(f'{v}: {n}' for v, n in sorted(
                      versions.items())) + '.', '']
    real = [r for r in rows if r.get('stages')]
    learned = any('learns' in r for r in rows)
    zoo = any('zoo_learns' in r for r in rows)
    iters = sorted({r['learn_iters'] for r in rows if 'learn_iters' in r})
    if learned:
        lines += ['"learns": the mixed config overfits the real samples '
                  f'for {" or ".join(map(str, iters))} iterations (each '
                  'cell says) through MMPose\'s tools/train.py '
                  '(its own model, loss, optimizer and lr; no augmentation, '
                  'a short warm-up, no lr schedule; tools/_sweep/learn.py) - '
                  '"yes" when its training accuracy, where the head logs '
                  'one, rose by 0.1 and its loss fell by half from the end '
                  'of the warm-up, or else its loss fell below half its '
                  'first value.'
                  + (' "zoo from scratch": the shipped config itself, its '
                     'own backbone with random weights (no pretrained '
                     'download), under the same check.' if zoo else ''),
                  '']
    if real:
        n = {s: sum(real_status(r) == s for r in real)
             for s in ('passed', 'failed', 'no samples')}
        lines += [f'{what}, on real images through MMPose\'s own tools '
                  '(tools/train.py with the config\'s whole training '
                  'pipeline, one epoch of batch 2 and validation with its '
                  'own metric; tools/test.py on the checkpoint; '
                  'MMPoseInferencer drawing a picture): '
                  f'{len(rows)} configs - {n["passed"]} passed every '
                  f'stage, {n["failed"]} failed a stage, '
                  f'{n["no samples"]} have no real samples here, '
                  f'{count["unsupported"]} refused (cannot be mixed or '
                  'trained, with the reason), '
                  f'{count["failed"]} failed to build or step.', '',
                  '| config | build + synthetic step | '
                  + ' | '.join(STAGES) + (' | learns' if learned else '')
                  + (' | zoo from scratch' if zoo else '')
                  + ' |', '|---|---|' + '---|' * (len(STAGES) + learned
                                                  + zoo)]
        for r in rows:
            stages = r.get('stages') or {}
            first = 'ok' if r['status'] == 'ok' else \
                f"{r['status']}: {r.get('why', '')}"
            lines.append(f"| `{r['config']}` | {first} | " + ' | '.join(
                stages.get(s, '') for s in STAGES)
                + (f" | {learn_text(r, 'learns')}" if learned else '')
                + (f" | {learn_text(r, 'zoo_learns')}" if zoo else '')
                + ' |')
        return '\n'.join(lines) + '\n'
    lines += [f'{what}: {len(rows)} configs - {count["ok"]} trained one '
              f'synthetic step, {count["unsupported"]} cannot take a '
              f'single-scale backbone, {count["failed"]} failed.', '',
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
    p.add_argument('--real', action='store_true',
                   help='--sweep: also train, validate, test and draw each '
                   "mixed config on real samples through MMPose's own "
                   'tools (tens of seconds per config)')
    p.add_argument('--learn', type=int, default=0, metavar='ITERS',
                   help='--sweep --real: also overfit each config that '
                   'passed for ITERS iterations and report whether it '
                   'learns (tools/_sweep/learn.py; minutes per config)')
    p.add_argument('--learn-zoo', action='store_true',
                   help='--learn: also run the check on each shipped config '
                   'itself (its own backbone from scratch) beside it')
    p.add_argument('--merge', metavar='JSON',
                   help='--sweep: start from the rows of this earlier sweep '
                   '(its .json) and replace those of the configs run now, so '
                   'that --only refreshes part of a committed sweep; each '
                   'row records the hg_plugin version that measured it')
    p.add_argument('--only', nargs='+', metavar='TEXT',
                   help='--sweep: only configs whose path contains TEXT')
    p.add_argument('--work-dir', default='work_dirs/mix_sweep',
                   help='--sweep --real: where the runs go (finished ones '
                   'are reused)')
    p.add_argument('--force', action='store_true',
                   help='overwrite an existing file this tool did not write')
    args = p.parse_args()
    warnings.simplefilter('ignore')
    if args.sweep:
        outputs = [args.report, osp.splitext(args.report)[0] + '.json'] \
            if args.report else []
        guard_outputs(outputs, [], TOOL, args.force, '--report')
        def write(rows):  # after every config: a cut-short run keeps them
            if not args.report:
                return
            os.makedirs(osp.dirname(osp.abspath(args.report)), exist_ok=True)
            with open(args.report, 'w') as f:
                f.write(report(rows, args.all))
            with open(outputs[1], 'w') as f:
                json.dump(rows, f, indent=1)
            record_outputs(outputs, TOOL)

        earlier = []
        if args.merge:
            try:
                with open(args.merge) as f:
                    earlier = json.load(f)
            except (OSError, ValueError) as e:
                sys.exit(f'error: --merge {args.merge}: {e}')

        def merged(new):
            done = {r['config'] for r in new}
            return [r for r in earlier if r['config'] not in done] + new \
                if earlier else new
        rows = merged(sweep(args.all, args.feat_channels, args.stacks,
                            args.real, args.work_dir, args.only,
                            on_row=lambda rows: write(merged(rows)),
                            learn=args.learn, learn_zoo=args.learn_zoo))
        rows.sort(key=lambda r: r['config'])
        print(report(rows, args.all))
        write(rows)
        sys.exit(1 if any(r['status'] == 'failed' or real_status(r) ==
                          'failed' or r.get('learns', 'yes').startswith(
                              ('no', 'failed')) for r in rows) else 0)
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
