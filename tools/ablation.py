"""Ablations of the stacked hourglass with seeds, a report and a plot.

    python tools/ablation.py                       # the full grid, 3 seeds
    python tools/ablation.py --variants sup-all,sup-last --seeds 0 1
    python tools/ablation.py --quick               # plumbing check, minutes
    python tools/ablation.py --data-root data/mpii --device cuda --iters 20000

Every variant is a config (written to ``<work-dir>/configs/``) trained with
``tools/train.py`` on the same train split and evaluated with
``tools/test.py`` on a held-out split (MPII layout, MMPose's PCKh via
``MpiiPCKhCurve``). Without ``--data-root`` the data is the ``hard``
synthetic MPII set (:mod:`hg_plugin.synthetic.hard`), made once
with a fixed seed. Writes ``<out>/ablation.md`` (mean +- std over seeds of
PCKh@0.5/0.2/0.1, AUC, params, MACs, train time) and ``<out>/ablation.png``
(PCKh vs threshold; held-out PCKh vs iterations); raw numbers in
``<out>/ablation.json``. A difference is called one only when it exceeds the
seed spread (the two means differ by more than the sum of their stds).

Groups (the README's "Ablations" says what they answer):
  sup-*     supervision: every stack (paper), last stack only, stage-wise
            backward (stacks cut apart), stage-wise with the gradient through
            the re-injection kept - 4 stacks, same schedule
  stacks-*  1, 2, 4 stacks at about equal parameters (widths adjusted)
  res-*     input 32/64/128 px with heatmaps at 1/4 (paper's 64/256 scaled
            down for a CPU), and at 64 px heatmaps at 1/2 (an upsampling
            stage before the heatmap layer); MSRA, DARK (decoding) and UDP
  per-stack held-out PCKh of each stack's heatmaps of the paper model
"""
import argparse
import glob
import json
import os
import os.path as osp
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import matplotlib
import numpy as np
from _cli import guard_outputs, record_outputs
import torch
from torch.utils.flop_counter import FlopCounterMode

from hg_plugin import config_path
from hg_plugin.config_file import write_config
from hg_plugin.evaluation.mpii_pckh_curve import REPORTED
from hg_plugin.models.backbones import StackedHourglass
from hg_plugin.pipelines import topdown_pipelines
from hg_plugin.synthetic import make_synthetic_mpii

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = 'tools/ablation.py'
BASE = dict(stacks=4, width=44, size=64, stride=4, codec='msra', sup='all',
            sigma=1)
# name: (group, label, changes to BASE)
VARIANTS = {
    'sup-all': ('sup', 'every stack (paper)', {}),
    'sup-last': ('sup', 'last stack only', dict(sup='last')),
    'sup-stagewise': ('sup', 'stage-wise, cut', dict(sup='stagewise')),
    'sup-stagewise-kept': ('sup', 'stage-wise, gradient kept',
                           dict(sup='stagewise-kept')),
    'stacks-1': ('stacks', '1 stack, f=84', dict(stacks=1, width=84)),
    'stacks-2': ('stacks', '2 stacks, f=60', dict(stacks=2, width=60)),
    'stacks-4': ('stacks', '4 stacks, f=44', {}),
    'res-32': ('res', '32 px in, 8 px heatmaps', dict(size=32)),
    'res-64': ('res', '64 px in, 16 px heatmaps', {}),
    'res-128': ('res', '128 px in, 32 px heatmaps', dict(size=128)),
    'res-64-dark': ('res', '64 / 16, DARK decoding', dict(codec='dark')),
    'res-64-udp': ('res', '64 / 16, UDP', dict(codec='udp')),
    'res-64-half': ('res', '64 / 32 (1/2), MSRA', dict(stride=2, sigma=2)),
    'res-64-half-dark': ('res', '64 / 32 (1/2), DARK decoding',
                         dict(stride=2, sigma=2, codec='dark')),
    'res-64-half-udp': ('res', '64 / 32 (1/2), UDP',
                        dict(stride=2, sigma=2, codec='udp')),
    'per-stack': ('per-stack', 'each stack of the paper model', {}),
}


REFERENCE = ('sup-all', 'stacks-4', 'res-64')


def settings(name):
    return dict(BASE, **VARIANTS[name][2])


def training_key(s):
    """Variants that differ only in decoding or evaluation share a run."""
    return (s['stacks'], s['width'], s['size'], s['stride'],
            'udp' if s['codec'] == 'udp' else 'msra', s['sup'], s['sigma'])


def write_variant_config(path, s, args, seed):
    """The variant's config: configs/hg2_mpii_256.py with its network,
    codec, supervision and a short schedule, on the benchmark data."""
    size, hm = s['size'], s['size'] // s['stride']
    codec = dict(type='UDPHeatmap' if s['codec'] == 'udp' else 'MSRAHeatmap',
                 input_size=(size, size), heatmap_size=(hm, hm),
                 sigma=s['sigma'])
    model = dict(
        type='StagewiseTopdownPoseEstimator' if s['sup'].startswith(
            'stagewise') else 'TopdownPoseEstimator',
        backbone=dict(num_stacks=s['stacks'], feat_channels=s['width'],
                      depth=3, heatmap_stride=s['stride']),
        head=dict(num_stacks=s['stacks'], decoder=codec),
        test_cfg=dict(flip_test=False))
    if s['sup'] == 'last':
        model['head']['loss'] = dict(
            stack_weights=[0.0] * (s['stacks'] - 1) + [1.0])
    if s['sup'] == 'stagewise-kept':
        model['detach_reinjection'] = False
    root = args.data_root.rstrip('/') + '/'
    iters, val = args.iters, max(1, args.iters // args.evals)
    train, test = topdown_pipelines(codec, use_udp=s['codec'] == 'udp')
    loader = dict(num_workers=0, persistent_workers=False)
    write_config(path, dict(
        codec=codec, model=model,
        optim_wrapper=dict(optimizer=dict(lr=1e-3)),
        param_scheduler=[dict(type='LinearLR', start_factor=0.1,
                              by_epoch=False, begin=0,
                              end=max(1, iters // 10))],
        train_cfg=dict(_delete_=True, type='IterBasedTrainLoop',
                       max_iters=iters, val_interval=val),
        default_hooks=dict(
            logger=dict(interval=max(1, min(50, val)),
                        log_metric_by_epoch=False),
            checkpoint=dict(interval=iters, by_epoch=False, save_best=None,
                            max_keep_ckpts=1)),
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=seed),
        train_dataloader=dict(batch_size=args.batch, **loader, dataset=dict(
            data_root=root, pipeline=train)),
        val_dataloader=dict(batch_size=32, **loader, dataset=dict(
            data_root=root, headbox_file=root + 'annotations/mpii_gt_val.mat',
            pipeline=test)),
        test_dataloader=dict(batch_size=32, **loader, dataset=dict(
            data_root=root, headbox_file=root + 'annotations/mpii_gt_val.mat',
            pipeline=test)),
        val_evaluator=dict(type='MpiiPCKhCurve'),
        test_evaluator=dict(type='MpiiPCKhCurve')),
        base=config_path('hg2_mpii_256'), imports=(), comments=[
            'written by tools/ablation.py: a short schedule, RMSprop as in '
            'the paper, lr 1e-3 (not 2.5e-4) with a warm-up,',
            f'since {iters} iterations are far fewer than the paper\'s'])


def run(cmd, log, env):
    with open(log, 'w') as f:
        r = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                           env=env)
    if r.returncode:
        raise RuntimeError(f'{osp.basename(cmd[1])} failed for '
                           f'{osp.dirname(log)}; see {log}')


def last_metrics(work):
    """The records of a training's scalars.json (losses, val metrics)."""
    runs = sorted(d for d in os.listdir(work) if osp.isdir(osp.join(work, d))
                  and osp.isfile(osp.join(work, d, 'vis_data',
                                          'scalars.json')))
    with open(osp.join(work, runs[-1], 'vis_data', 'scalars.json')) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return recs


def test_metrics(work):
    """The metrics a tools/test.py run logged (``<timestamp>/<ts>.json``)."""
    found = sorted(glob.glob(osp.join(work, '*', '*.json')))
    with open(found[-1]) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return [r for r in recs if 'AUC' in r][-1]


def decoder_options(s):
    if s['codec'] != 'dark':
        return []
    k = 4 * s['sigma'] + 1  # DARK's blur kernel, for this sigma
    return ['model.head.decoder.unbiased=True',
            f'model.head.decoder.blur_kernel_size={k}']


def train_and_evaluate(key, s, seed, args, env):
    """Train one (settings, seed) once; return its curves and timings."""
    tag = '_'.join(str(v) for v in key) + \
        f'_it{args.iters}_b{args.batch}_seed{seed}'
    work = osp.join(args.work_dir, 'runs', tag)
    done = osp.join(work, 'result.json')
    if osp.isfile(done):
        with open(done) as f:
            return json.load(f)
    cfg = osp.join(work, 'config.py')
    ckpt = osp.join(work, f'iter_{args.iters}.pth')
    trained = osp.join(work, 'train.json')
    if not osp.isfile(trained):  # (again, if an earlier attempt broke off)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        write_variant_config(cfg, s, args, seed)
        start = time.time()
        run([sys.executable, 'tools/train.py', cfg, '--work-dir', work],
            osp.join(work, 'train.out'), env)
        curve = [(r['step'], r['PCK'], r.get('PCK@0.1'))
                 for r in last_metrics(work) if 'PCK' in r and 'loss' not in r]
        with open(trained, 'w') as f:
            json.dump(dict(train_time=time.time() - start, val_curve=curve), f)
    with open(trained) as f:
        info = json.load(f)
    train_time, curve = info['train_time'], info['val_curve']
    result = dict(train_time=train_time, val_curve=curve, tests={})
    tests = {'': []}  # the training's own decoding, the last stack
    uses = [settings(n) for n in VARIANTS if training_key(settings(n)) == key]
    if any(u['codec'] == 'dark' for u in uses):  # DARK: decoding only
        tests['dark'] = decoder_options(dict(s, codec='dark'))
    if key == training_key(settings('per-stack')):
        for i in range(s['stacks'] - 1):
            tests[f'stack{i}'] = [f'model.test_cfg.stack={i}']
    for name, opts in tests.items():
        out = osp.join(work, f'test_{name or "default"}')
        run([sys.executable, 'tools/test.py', cfg, ckpt, '--work-dir', out,
             *(['--cfg-options', *opts] if opts else [])],
            osp.join(work, f'test_{name or "default"}.out'), env)
        rec = test_metrics(out)
        result['tests'][name] = rec
    with open(done, 'w') as f:
        json.dump(result, f)
    return result


def model_cost(s):
    """Parameters and MACs of a variant's network at its input size."""

    net = StackedHourglass(num_stacks=s['stacks'], feat_channels=s['width'],
                           depth=3, heatmap_stride=s['stride']).eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(torch.zeros(1, 3, s['size'], s['size']))
    return sum(p.numel() for p in net.parameters()), fc.get_total_flops() / 2


def make_data(args):
    root = osp.join(args.work_dir, 'data')
    if not osp.isfile(osp.join(root, 'annotations', 'mpii_gt_val.mat')):
        print(f'making the hard synthetic set in {root} ...', flush=True)
        make_synthetic_mpii(root, args.num_train, args.num_val, 128,
                            seed=2016, difficulty='hard')
    return root


def metric_of(result, name):
    """The test metrics of a variant from its training's results."""
    s = settings(name)
    return result['tests']['dark' if s['codec'] == 'dark' else '']


def mean_std(values):
    return float(np.mean(values)), float(np.std(values))


def summarise(results, names, seeds):
    """One row per variant (mean, std over seeds) and the per-stack table."""
    rows = []
    for name in names:
        if name == 'per-stack':
            continue
        s = settings(name)
        runs = [results[(training_key(s), sd)] for sd in seeds]
        tests = [metric_of(r, name) for r in runs]
        params, macs = model_cost(s)
        steps = [step for step, *_ in runs[0]['val_curve']]
        rows.append(dict(
            name=name, group=VARIANTS[name][0], label=VARIANTS[name][1],
            params=params, macs=macs,
            train_s=float(np.mean([r['train_time'] for r in runs])),
            **{k: mean_std([m[k] for m in tests])
               for k in ('PCK', 'PCKh@0.2', 'PCK@0.1', 'AUC')},
            curve=[float(np.mean([m[f'PCKh@{t:g}'] for m in tests]))
                   for t in REPORTED],
            val=[[step, float(np.mean([r['val_curve'][i][1] for r in runs]))]
                 for i, step in enumerate(steps)]))
    per_stack = None
    if 'per-stack' in names:
        s = settings('per-stack')
        runs = [results[(training_key(s), sd)] for sd in seeds]
        per_stack = []
        for i in range(s['stacks']):  # the last stack is the default test
            name = f'stack{i}' if i < s['stacks'] - 1 else ''
            per_stack.append({k: mean_std([r['tests'][name][k] for r in runs])
                              for k in ('PCK', 'PCK@0.1', 'AUC')})
    return rows, per_stack


def differs(a, b):
    return abs(a[0] - b[0]) > a[1] + b[1]


def write_report(rows, per_stack, seeds, args, wall):
    os.makedirs(args.out, exist_ok=True)
    lines = [
        '# Ablations (tools/ablation.py)', '',
        f'Data: {args.data_desc}. {args.iters} iterations of batch '
        f'{args.batch}, RMSprop lr 1e-3, the paper\'s augmentation (flip, '
        'rotation +-30 deg, scale 0.75-1.25), no flip test; '
        f'seeds {", ".join(map(str, seeds))}; mean +- std over seeds. '
        f'Wall time of the whole grid: {wall / 60:.1f} min on {args.machine}.',
        '',
        'A difference is called one only when two means differ by more than '
        'the sum of their standard deviations (the seed spread); **bold**: '
        'differs in PCKh@0.5 that way from its group\'s reference (every '
        'stack supervised; 4 stacks; 64 px in, 16 px MSRA heatmaps).', '',
        '| group | variant | PCKh@0.5 | PCKh@0.2 | PCKh@0.1 | AUC 0-0.5 | '
        'params | MMACs | train s |',
        '|---|---|---|---|---|---|---|---|---|']
    refs = {r['group']: r for r in rows if r['name'] in REFERENCE}
    for r in rows:
        ref = refs.setdefault(r['group'], r)
        mark = '**' if r is not ref and differs(r['PCK'], ref['PCK']) else ''

        def f(k):
            return f'{r[k][0]:.1f} +- {r[k][1]:.1f}'
        lines.append(
            f"| {r['group']} | {mark}{r['label']}{mark} | {f('PCK')} | "
            f"{f('PCKh@0.2')} | {f('PCK@0.1')} | {f('AUC')} | "
            f"{r['params'] / 1e6:.3f}M | {r['macs'] / 1e6:.0f} | "
            f"{r['train_s']:.0f} |")
    if per_stack:
        lines += ['', '## Per-stack accuracy of the paper model', '',
                  '| stack | PCKh@0.5 | PCKh@0.1 | AUC |', '|---|---|---|---|']
        for i, m in enumerate(per_stack):
            lines.append(f'| {i + 1} | {m["PCK"][0]:.1f} +- {m["PCK"][1]:.1f}'
                         f' | {m["PCK@0.1"][0]:.1f} +- {m["PCK@0.1"][1]:.1f}'
                         f' | {m["AUC"][0]:.1f} +- {m["AUC"][1]:.1f} |')
    with open(osp.join(args.out, 'ablation.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(osp.join(args.out, 'ablation.json'), 'w') as f:
        json.dump(dict(rows=rows, per_stack=per_stack, seeds=list(seeds),
                       iters=args.iters, wall_s=wall), f, indent=1)
    plot(rows, per_stack, args)


def plot(rows, per_stack, args):

    groups = [g for g in ('sup', 'stacks', 'res') if any(
        r['group'] == g for r in rows)]
    if not groups:
        return
    fig, axes = plt.subplots(2, len(groups), figsize=(5 * len(groups), 8),
                             squeeze=False)
    for j, g in enumerate(groups):
        for r in rows:
            if r['group'] != g:
                continue
            axes[0][j].plot(REPORTED, r['curve'], marker='.', label=r['label'])
            if r['val']:
                it, pck = zip(*r['val'])
                axes[1][j].plot(it, pck, marker='.', label=r['label'])
        axes[0][j].set(title=f'{g}: PCKh vs threshold', xlabel='threshold '
                       '(head size)', ylabel='PCKh %')
        axes[1][j].set(title=f'{g}: held-out PCKh@0.5 vs iterations',
                       xlabel='iteration', ylabel='PCKh@0.5 %')
        for ax in axes[:, j]:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(osp.join(args.out, 'ablation.png'), dpi=90)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--variants', default='all',
                   help='comma-separated names or groups (sup, stacks, res, '
                   'per-stack) or "all": ' + ', '.join(VARIANTS))
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--iters', type=int, default=800)
    p.add_argument('--evals', type=int, default=4,
                   help='held-out evaluations during training (the curves)')
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--num-train', type=int, default=3000)
    p.add_argument('--num-val', type=int, default=400)
    p.add_argument('--data-root', help='an MPII-layout folder (MMPose\'s '
                   'MPII, for instance) instead of the synthetic set')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--jobs', type=int, default=2,
                   help='trainings at a time (each with cores/jobs threads)')
    p.add_argument('--work-dir', default='work_dirs/ablation')
    p.add_argument('--out', default='docs')
    p.add_argument('--quick', action='store_true',
                   help='one seed, 6 iterations, 64+16 images: plumbing only')
    p.add_argument('--force', action='store_true',
                   help='overwrite report files in --out that this tool did '
                   'not write')
    args = p.parse_args()
    if args.quick:
        args.seeds, args.iters, args.evals = args.seeds[:1], 6, 2
        args.num_train, args.num_val, args.batch = 64, 16, 8
    return args


def chosen_variants(spec: str) -> list:
    """Variant names from ``--variants`` (names, groups or 'all')."""
    names = []
    for v in spec.split(','):
        v = v.strip()
        chosen = list(VARIANTS) if v == 'all' else [
            n for n in VARIANTS if VARIANTS[n][0] == v] or [v]
        for n in chosen:
            if n not in VARIANTS:
                sys.exit(f'error: --variants: unknown {n!r}; choose from '
                         f'{", ".join(VARIANTS)} or a group')
            if n not in names:
                names.append(n)
    return names


def run_grid(jobs, args, env) -> dict:
    """Every (training, seed) at most ``--jobs`` at a time; finished runs
    are cached for the next invocation."""
    start, results = time.time(), {}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {k: pool.submit(train_and_evaluate, k[0], s, k[1], args, env)
                   for k, s in jobs.items()}
        for k, fut in futures.items():
            try:
                results[k] = fut.result()
            except RuntimeError as e:  # finished runs are kept for next time
                pool.shutdown(cancel_futures=True)
                sys.exit(f'error: {str(e).splitlines()[0]}')
            print(f'done {k} after {(time.time() - start) / 60:.1f} min',
                  flush=True)
    return results


def main():
    args = parse_args()
    names = chosen_variants(args.variants)
    outputs = [osp.join(args.out, f'ablation.{ext}')
               for ext in ('md', 'png', 'json')]
    guard_outputs(outputs, [args.data_root], TOOL, args.force, '--out file')
    if args.data_root:
        args.data_desc = f'MPII layout at {args.data_root}'
    else:
        args.data_root = make_data(args)
        args.data_desc = (f'the hard synthetic MPII set ({args.num_train} '
                          f'train / {args.num_val} held-out images, 128 px, '
                          'seed 2016; hg_plugin.synthetic.hard)')
    args.machine = (f'{os.cpu_count()} CPU cores ('
                    f'{platform.processor() or platform.machine()})'
                    if args.device == 'cpu' else args.device)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if args.device == 'cpu':  # MMEngine takes the GPU whenever it sees one
        env['CUDA_VISIBLE_DEVICES'] = ''
    jobs = {}
    for n in names:
        for sd in args.seeds:
            jobs.setdefault((training_key(settings(n)), sd), settings(n))
    print(f'{len(jobs)} trainings for {len(names)} variants x '
          f'{len(args.seeds)} seeds, {args.jobs} at a time', flush=True)
    start = time.time()
    results = run_grid(jobs, args, env)
    wall = time.time() - start
    rows, per_stack = summarise(results, names, args.seeds)
    write_report(rows, per_stack, args.seeds, args, wall)
    record_outputs(outputs, TOOL)
    print(f'wrote {args.out}/ablation.md and ablation.png in '
          f'{wall / 60:.1f} min')


if __name__ == '__main__':
    main()
