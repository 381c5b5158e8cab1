"""Benchmark the stacked hourglasses against MMPose model-zoo entries.

    python tools/benchmark.py                      # CPU, defaults below
    python tools/benchmark.py --device cuda --batch 32 --train-batch 16
    python tools/benchmark.py --profile            # where an hg8 step goes

Every model is built from its config (ours from configs/, the zoo's from
MMPose's shipped ``mmpose::`` configs) with no weights loaded, and measured
in its own subprocess (clean peak-memory readings, no torch.compile state
shared). Reported per model: parameters, MACs (conv/linear, at the config's
input size), batch-1 latency, inference throughput, training throughput
(``model.train_step``: preprocessing, forward, loss, backward, optimizer step
with the config's optimizer) and peak training memory, as medians of
``--repeat`` runs after ``--warmup`` runs. hg8 is also measured with each
speed option (bf16/fp16 AMP, channels_last, torch.compile, per-stack
checkpointing, stage-wise backward) and at ``--memory-batch`` for the
checkpointing memory study. Peak memory is the CUDA allocator's peak, or on
the CPU the process's peak resident memory (VmHWM, reset before the run)
above its resident memory before the model was built.

Outputs in ``--out-dir``: ``benchmark.md`` (tables with ratios to hg8),
``benchmark.csv``, ``benchmark.json``, ``benchmark.png`` (accuracy against MACs and against
throughput; accuracy from MMPose's metafiles, and the paper's for hg8) and,
with ``--profile``, ``profile.md``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import torch
from _cli import guard_outputs, record_outputs
from tqdm import tqdm

# the repository first: hg_plugin from this checkout where it is not
# installed (the GPU machine's bare torch image); then _bench beside this file
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _bench.catalog import (EVERY_MODEL, HG8_VARIANTS, MODELS,  # noqa: E402
                            REPO, VARIANTS, zoo_accuracy)
from _bench.measure import data_worker, worker  # noqa: E402
from _bench.profile import profile  # noqa: E402
from _bench.report import write_reports  # noqa: E402

TOOL = 'tools/benchmark.py'
REPORTS = ('benchmark.md', 'benchmark.csv', 'benchmark.json', 'benchmark.png')


def run_job(job, timeout):
    cmd = [sys.executable, osp.abspath(__file__), '--worker', json.dumps(job)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return dict(model=job['model'], variant=job['variant'],
                    study=job.get('study', 'main'), error=f'over {timeout} s')
    for line in r.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    tail = (r.stderr.strip().splitlines() or ['no output'])[-1]
    return dict(model=job['model'], variant=job['variant'],
                study=job.get('study', 'main'), error=tail[:200])


def jobs_for(args):
    common = dict(device=args.device, batch=args.batch, warmup=args.warmup,
                  repeat=args.repeat, train_batch=args.train_batch)
    cuda = args.device == 'cuda'
    infer = not args.train_only
    jobs = []
    for m in args.models:
        for v in args.model_variants:
            jobs.append(dict(common, model=m, variant=v, infer=infer,
                             train=True, macs=v == 'plain'))
    hg = args.variants_model
    if hg in args.models:
        for v in args.variants:
            if VARIANTS[v].get('cuda_only') and not cuda:
                continue
            jobs.append(dict(common, model=hg, variant=v, infer=infer,
                             train=True, macs=False))
        if args.memory_batch > 0:  # the memory study
            jobs += [dict(common, model=hg, variant=v, infer=False,
                          train=True, macs=False, study='memory',
                          train_batch=args.memory_batch,
                          warmup=1, repeat=args.memory_repeat)
                     for v in ('plain', 'with_cp', 'stagewise')]
    if args.data_samples > 0:
        jobs.append(dict(model='data', variant='train pipeline',
                         kind='data', samples=args.data_samples))
    return jobs


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--models', nargs='+', default=list(MODELS),
                   choices=list(MODELS))
    p.add_argument('--model-variants', nargs='*', default=list(EVERY_MODEL),
                   choices=list(VARIANTS),
                   help='settings measured for every model (plain: the '
                   'config; fast: --preset fast; cl-amp: channels-last + '
                   'AMP in the device dtype)')
    p.add_argument('--variants', nargs='*', default=HG8_VARIANTS,
                   choices=list(VARIANTS),
                   help='further hg8 options to measure (none: --variants)')
    p.add_argument('--variants-model', default='hg8', choices=list(MODELS),
                   help='the model --variants and the memory study measure')
    p.add_argument('--data-samples', type=int, default=200,
                   help='samples through the MPII training pipeline (0: '
                   'skip the data measurement)')
    p.add_argument('--batch', type=int, default=4,
                   help='inference throughput batch')
    p.add_argument('--train-batch', type=int, default=4)
    p.add_argument('--memory-batch', type=int, default=16,
                   help='batch of the checkpointing memory study (0: skip)')
    p.add_argument('--memory-repeat', type=int, default=2)
    p.add_argument('--train-only', action='store_true',
                   help='measure training alone (a compiled model compiles '
                   'once more for each inference batch size)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeat', type=int, default=3)
    p.add_argument('--timeout', type=int, default=1200,
                   help='seconds per measurement subprocess')
    p.add_argument('--out-dir', default=osp.join(REPO, 'benchmarks'))
    p.add_argument('--append', action='store_true',
                   help='add to the results already in --out-dir (a row '
                   'measured again replaces the earlier one)')
    p.add_argument('--profile', action='store_true',
                   help='only profile hg8 and HG52 training steps '
                   '(profile.md)')
    p.add_argument('--profile-variant', default='cl-amp',
                   choices=list(VARIANTS))
    p.add_argument('--force', action='store_true',
                   help='overwrite report files in --out-dir that this tool '
                   'did not write')
    p.add_argument('--worker', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        job = json.loads(args.worker)
        run = data_worker if job.get('kind') == 'data' else worker
        print('RESULT ' + json.dumps(run(job)))
        return
    if args.device == 'cuda':
        if not torch.cuda.is_available():
            sys.exit('error: --device cuda but CUDA is not available')
    outputs = [osp.join(args.out_dir, name) for name in (
        ['profile.md'] if args.profile else REPORTS)]
    guard_outputs(outputs, [], TOOL, args.force, '--out-dir file')
    os.makedirs(args.out_dir, exist_ok=True)
    if args.profile:
        profile(args)
        record_outputs(outputs, TOOL)
        return
    accuracy = {}
    for name, (config, source) in MODELS.items():
        if source == 'zoo':
            found = zoo_accuracy(config)
            if found:
                accuracy[name] = found
        elif source:
            accuracy[name] = source
    results = []
    saved = osp.join(args.out_dir, 'benchmark.json')
    if args.append and osp.isfile(saved):
        with open(saved) as f:
            results = json.load(f)['results']
    bar = tqdm(jobs_for(args), desc='benchmark', unit='run')
    for job in bar:
        bar.set_postfix_str(f"{job['model']} {job['variant']} "
                            f"b{job.get('train_batch', '')}")
        new = run_job(job, args.timeout)
        key = (new['model'], new['variant'], new.get('study', 'main'))
        results = [r for r in results if (r['model'], r['variant'], r.get(
            'study', 'main')) != key] + [new]  # a re-measurement replaces
        write_reports(results, args, accuracy)  # partial results survive
        record_outputs(outputs, TOOL)
    print(write_reports(results, args, accuracy))
    record_outputs(outputs, TOOL)


if __name__ == '__main__':
    main()
