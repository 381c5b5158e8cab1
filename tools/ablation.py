"""Ablations of the stacked hourglass: the paper's questions and the seed's,
each with its own comparison at a fixed training budget, with seeds fixed
before any run, intervals, equivalence tests and a report.

    python tools/ablation.py                      # the grid (hours, cached)
    python tools/ablation.py --amp bf16          # the bf16 runs (slow w/o AMX)
    python tools/ablation.py --variants sup,backward
    python tools/ablation.py --quick              # plumbing check, a minute
    python tools/ablation.py --cached-only --readme README.md  # report so far
    python tools/ablation.py --data-root data/mpii --device cuda --iters 20000

Every variant (``tools/_ablation/variants.py``) is a config trained with
MMPose's ``tools/train.py`` on one train split and tested with
``tools/test.py`` on a held-out split (MPII layout, MMPose's PCKh via
``MpiiPCKhCurve``). Without ``--data-root`` the data is the ``medium``
synthetic MPII set (:mod:`hg_plugin.synthetic`), made once with a fixed
seed. Each variant trains with its group's fixed seeds (5; 3 for the
2x-iteration group). Runs are cached (``<work-dir>/runs/*/result.json``,
copied to ``--results``, committed): an interrupted or repeated invocation,
on this clone or a fresh one, trains only what is missing. The rules of
every verdict (paired or Welch intervals, equivalence within
+-1.5 points, Holm within a question, flatness) are in
``tools/_ablation/stats.py``. Writes ``<out>/ablation.{md,json,png}``.
"""
import argparse
import os
import os.path as osp
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from _ablation.cost import step_costs
from _ablation.report import (compare, mean_curve, metrics_of,
                              per_stack_rows, readme_block, readme_lines,
                              test_of, variant_row, write, write_readme)
from _ablation.runs import cached, has_tests, train_and_evaluate
from _ablation.stats import MARGIN
from _ablation.variants import (BASE, GROUPS, OPTIONAL, VARIANTS,
                                is_reference, iterations, model_cost,
                                reference_of, seeds_of, settings,
                                training_key, write_variant_config)
from _bench.catalog import machine as bench_machine
from _cli import guard_outputs, record_outputs
from tqdm import tqdm

from hg_plugin.presets import fast_settings
from hg_plugin.synthetic import VERSIONS, make_synthetic_mpii

TOOL = 'tools/ablation.py'
TITLES = dict(
    sup='Paper: intermediate supervision (4 stacks, equal parameters)',
    stacks='Paper: 1, 2, 4 stacks at about equal parameters',
    budget='Paper: 1, 2, 4 stacks at twice the iterations (budget '
           'sensitivity)',
    backward='Seed question (a): backward per stack as each loss is '
             'computed - its three readings vs one backward',
    res='Seed question (b): input resolution at equal iterations and at '
        'equal MACs',
    heatmap='Seed question (b): heatmaps at 1/4 vs 1/2 (MSRA, DARK, UDP), '
            '128 px input')


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--variants', default='all',
                   help='comma-separated names or groups (' +
                   ', '.join(GROUPS) + ', per-stack) or "all" (all but ' +
                   ', '.join(OPTIONAL) + '): ' + ', '.join(VARIANTS))
    p.add_argument('--seeds', type=int, nargs='+',
                   help='these seeds for every variant (default: each '
                   'group\'s fixed count from 0, variants.SEEDS: 5, 3 for '
                   'the 2x-iteration group; no seeds are added after '
                   'looking)')
    p.add_argument('--iters', type=int, default=2400)
    p.add_argument('--evals', type=int, default=8,
                   help='held-out evaluations during training (the curves; '
                   'a multiple of 4, so 3/4 of the schedule is one)')
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=2.5e-3,
                   help='RMSprop peak lr (warm-up, then cosine to 0)')
    p.add_argument('--workers', type=int,
                   help='loader workers per training (default: none on '
                   'the CPU - two trainings on two cores ran 1.12x faster '
                   'without, and the draws do not depend on it - the cores '
                   'per training on a GPU)')
    p.add_argument('--difficulty', default='medium',
                   choices=['easy', 'medium', 'hard'])
    p.add_argument('--num-train', type=int, default=3000)
    p.add_argument('--num-val', type=int, default=400)
    p.add_argument('--data-root', help='an MPII-layout folder (MMPose\'s '
                   'MPII, for instance) instead of the synthetic set')
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--preset', choices=['fast'],
                   help='train and test with what tools/train.py\'s --preset '
                   'fast selects on this device (hg_plugin.presets: bf16 '
                   'autocast on a CPU with AMX, fp32 on one without, fp16 on '
                   'CUDA); runs are cached by the precision they ran in')
    p.add_argument('--amp', choices=['bf16'],
                   help='bf16 autocast on any CPU (tools/train.py --amp '
                   'bf16): the precision of the committed _fast runs, which '
                   'a CPU without AMX computes ~8x slower than fp32')
    p.add_argument('--jobs', type=int, default=2,
                   help='trainings at a time (each with cores/jobs threads)')
    p.add_argument('--work-dir', default='work_dirs/ablation')
    p.add_argument('--results', default='docs/ablation_runs',
                   help='where each finished run\'s result.json is copied '
                   '(committed, so that a later invocation on a fresh clone '
                   'continues the grid); "" for the work dir only')
    p.add_argument('--out', default='docs')
    p.add_argument('--quick', action='store_true',
                   help='one seed, 8 iterations, 64+16 images, a 64 px f=16 '
                   'reference: plumbing only')
    p.add_argument('--cached-only', action='store_true',
                   help='train nothing: report the finished runs (a grid '
                   'still running, for instance); the rest is listed as '
                   'not answered yet')
    p.add_argument('--readme', help='also write the report\'s answers into '
                   'this README, between its ablation-answers markers')
    p.add_argument('--force', action='store_true',
                   help='overwrite report files in --out that this tool did '
                   'not write')
    args = p.parse_args()
    if args.quick:
        args.seeds, args.iters, args.evals = (args.seeds or [0])[:1], 8, 4
        args.num_train, args.num_val, args.batch = 64, 16, 8
        BASE.update(size=64, width=16)  # plumbing: a smaller reference
    cores = os.cpu_count() or 1
    if args.workers is None:
        args.workers = 0 if args.device == 'cpu' else max(
            1, cores // args.jobs - 1)
    return args


def chosen_variants(spec: str) -> list:
    """Variant names from ``--variants`` (names, groups or 'all')."""
    names = []
    for v in spec.split(','):
        v = v.strip()
        chosen = [n for n in VARIANTS if n not in OPTIONAL] if v == 'all' \
            else [n for n in VARIANTS if VARIANTS[n][0] == v] or [v]
        for n in chosen:
            if n not in VARIANTS:
                sys.exit(f'error: --variants: unknown {n!r}; choose from '
                         f'{", ".join(VARIANTS)} or a group')
            if n not in names:
                names.append(n)
    for n in list(names):  # a comparison needs its group's reference
        ref = reference_of(n)
        if ref and ref not in names:
            names.insert(0, ref)
    return names


def run_grid(wanted, run, env, bar) -> dict:
    """Every (training, seed) of ``wanted`` at most ``--jobs`` at a time;
    finished runs are cached for the next invocation. ``bar`` counts
    training iterations (a 4x schedule is 4 runs' worth), the cached runs'
    as already done, so that its ETA is about the trainings left."""
    results = {k: cached(k[0], s, k[1], run) for k, s in wanted.items()}
    results = {k: r for k, r in results.items() if r is not None}
    todo = {k: s for k, s in wanted.items() if k not in results}
    done = sum(iterations(wanted[k], run) for k in results)
    bar.total += sum(iterations(s, run) for s in wanted.values())
    bar.initial += done  # (the bar's rate: this invocation's iterations,
    bar.n += done        # over its whole time, smoothing=0)
    bar.refresh()
    # longest first (schedule, then MACs), so that a round does not end on
    # one long training with the other cores idle
    macs = {}
    for (key, _), s in todo.items():
        if key not in macs:  # (a network is built per training setting)
            macs[key] = model_cost(s)[1]
    order = sorted(todo, key=lambda k: (-todo[k]['schedule'], -macs[k[0]]))
    with ThreadPoolExecutor(run['jobs']) as pool:
        futures = {pool.submit(train_and_evaluate, key, todo[(key, seed)],
                               seed, run, env): (key, seed)
                   for key, seed in order}
        for fut in as_completed(futures):
            try:
                results[futures[fut]] = fut.result()
            except RuntimeError as e:  # finished runs are kept for next time
                pool.shutdown(cancel_futures=True)
                sys.exit(f'error: {str(e).splitlines()[0]}')
            bar.update(iterations(todo[futures[fut]], run))
    return results


def unanswered(asked, rows) -> list:
    """The questions asked but not in ``rows``: a group's title, with the
    variants still missing where the group is partly answered."""
    done = {r['name'] for r in rows if 'vs_reference' in r}
    out = []
    for g in GROUPS:
        wanted = [n for n in asked if VARIANTS[n][0] == g
                  and not is_reference(n)]
        left = [n for n in wanted if n not in done]
        if len(left) == len(wanted):  # (nothing asked counts as nothing)
            out.append(TITLES[g])
        elif left:
            out.append(f'{TITLES[g]}: ' + ', '.join(
                f'"{VARIANTS[n][1]}"' for n in left))
    return out


def seeds(name, args) -> list:
    """The seeds ``name`` is trained with: ``--seeds`` or its group's."""
    return args.seeds or seeds_of(name)


def finished_runs(names, run, args):
    """``--cached-only``: (the finished runs, the variants they answer):
    a variant counts when all of its seeds finished with their tests;
    nothing is trained."""
    results, answered = {}, []
    for n in names:
        s = settings(n)
        key = training_key(s)
        found = {sd: cached(key, s, sd, run) for sd in seeds(n, args)}
        if all(r is not None for r in found.values()):
            answered.append(n)
            results.update({(key, sd): r for sd, r in found.items()})
    return results, answered


def busy_minutes(results) -> float:
    """Measured wall time of the runs: the length of the union of their
    [start, end] spans (None when a run did not record them)."""
    spans = sorted((r['started_at'], r['finished_at']) for r in results
                   if 'started_at' in r)
    if not spans or len(spans) < len(list(results)):
        return None
    total, (lo, hi) = 0.0, spans[0]
    for a, b in spans[1:]:
        if a > hi:
            total, lo, hi = total + hi - lo, a, b
        else:
            hi = max(hi, b)
    return (total + hi - lo) / 60


def autocast_dtype(args):
    """The runs' autocast dtype (None: fp32): ``--amp bf16``, or what
    ``--preset fast`` selects on this device."""
    if args.amp:
        return 'bfloat16'
    return fast_settings(args.device)['amp'] if args.preset else None


def precision(args) -> str:
    """How the runs computed, for the report."""
    amp = autocast_dtype(args)
    return (f'{amp} autocast' if amp else 'fp32') + ', channels-last'


def measure_costs(run, names) -> dict:
    """Step time and activation memory of the backward question's readings
    (one backward; per stack with the graph kept, apart, immediate)."""
    if 'backward-once' not in names:
        return {}
    folder = osp.join(run['work_dir'], 'costs')
    os.makedirs(folder, exist_ok=True)
    configs = {}
    for n, sup in (('backward-once', 'all'), ('backward-kept', 'kept'),
                   ('backward-apart', 'apart'),
                   ('backward-immediate', 'immediate')):
        configs[n] = osp.join(folder, f'{n}.py')
        write_variant_config(configs[n], dict(settings('backward-once'),
                                              sup=sup), run, 0)
    repeat = 1 if run['iters'] < 100 else 7
    return dict(repeat=repeat, batch=run['batch'],
                rows=step_costs(configs, run['batch'], repeat))


def main():
    args = parse_args()
    names = chosen_variants(args.variants)
    outputs = [osp.join(args.out, f'ablation.{ext}')
               for ext in ('md', 'png', 'json')]
    guard_outputs(outputs, [args.data_root], TOOL, args.force, '--out file')
    if args.readme:  # before hours of runs, not after
        try:
            with open(args.readme) as f:
                readme_block(f.read(), args.readme)
        except (OSError, ValueError) as e:
            sys.exit(f'error: --readme: {e}')
    if args.data_root:
        data_desc = f'MPII layout at {args.data_root}'
        args.data_tag = 'root-' + ''.join(
            c if c.isalnum() else '-' for c in osp.abspath(args.data_root))
    else:
        # runs and data are cached under the generator's version
        args.data_tag = f'{args.difficulty}-v{VERSIONS[args.difficulty]}'
        args.data_root = osp.join(
            args.work_dir, f'data_{args.data_tag}_{args.num_train}_'
            f'{args.num_val}')
        if not osp.isfile(osp.join(args.data_root, 'annotations',
                                   'mpii_gt_val.mat')):
            print(f'making the {args.difficulty} synthetic set in '
                  f'{args.data_root} ...', flush=True)
            make_synthetic_mpii(args.data_root, args.num_train, args.num_val,
                                128, seed=2016, difficulty=args.difficulty)
        data_desc = (f'the {args.difficulty} synthetic MPII set '
                     f'({args.num_train} train / {args.num_val} held-out '
                     '128 px images, seed 2016; hg_plugin.synthetic)')
    cpu_machine = bench_machine('cpu')  # recorded in every run
    machine = (f'{os.cpu_count()} CPU cores ('
               f'{platform.processor() or platform.machine()})'
               if args.device == 'cpu' else args.device)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if args.device == 'cpu':  # MMEngine takes the GPU whenever it sees one
        env['CUDA_VISIBLE_DEVICES'] = ''
    run = dict(vars(args), amp=autocast_dtype(args), machine=cpu_machine)
    run['results_dir'] = args.results or osp.join(args.work_dir, 'runs')
    wanted = {}
    for n in names:
        for sd in seeds(n, args):
            wanted.setdefault((training_key(settings(n)), sd), settings(n))
    start = time.time()
    asked = list(names)
    if args.cached_only:
        results, names = finished_runs(asked, run, args)
    else:
        bar = tqdm(total=0, desc='ablation', unit=' iterations',
                   smoothing=0)
        results = run_grid(wanted, run, env, bar)
        bar.close()
    costs = measure_costs(run, names)
    wall = time.time() - start
    rows = []
    for n in names:
        key = training_key(settings(n))
        runs = [results[k] for k in sorted(results) if k[0] == key
                and k[1] in seeds(n, args)
                and test_of(n) in results[k]['tests']]
        if n != 'per-stack' and runs:
            rows.append(variant_row(n, runs))
    compare(rows)
    per_stack = None
    key = training_key(settings('per-stack'))
    stacks = settings('per-stack')['stacks']
    tested = [results[(key, sd)] for sd in seeds('per-stack', args)
              if (key, sd) in results
              and has_tests(results[(key, sd)], key, stacks)]
    if 'per-stack' in names and tested:
        per_stack = per_stack_rows(tested, stacks)
    missing = unanswered(asked, rows)
    compute = sum(r['train_time'] + r.get('test_time', 0)
                  for r in results.values())
    busy = busy_minutes(results.values())
    epochs = args.iters * args.batch / args.num_train
    budget = f'{epochs:.1f} epochs ({args.iters} iterations of batch ' \
        f'{args.batch})'
    info = dict(
        titles=TITLES, iters=args.iters, batch=args.batch, lr=args.lr,
        difficulty=args.difficulty, machine=machine, jobs=args.jobs,
        precision=precision(args), budget=budget, margin=MARGIN,
        run_minutes=compute / 60, busy_minutes=busy,
        invocation_minutes=wall / 60, missing=missing,
        intro=[
            f'Data: {data_desc}. Every run: a fixed budget of {budget}, '
            '2x or 4x that where a variant says so, RMSprop with a warm-up '
            f'to lr {args.lr:g} and cosine decay to 0 (the decay flattens '
            'every curve by the end of its budget: a flat curve says the '
            'schedule ended, not that the model converged), the '
            'paper\'s augmentation (flip, rotation +-30 deg, scale '
            '0.75-1.25), no flip test; held-out PCKh (MMPose\'s, head-size '
            f'normalised) after {args.evals} evaluations along the way; '
            f'{precision(args)}.', '',
            f'Where and how long: {machine}, {args.jobs} trainings at a '
            f'time; the runs took {compute / 60:.0f} min of run time '
            '(training + tests, added up)'
            + ('' if busy is None else f' and {busy:.0f} min of wall time '
               '(measured: the time in which at least one of them ran, '
               'over every invocation)') + '.', '',
            'Rule for every sentence (tools/_ablation/stats.py): seeds fixed '
            'before any run (5 per variant, 3 at 2x iterations); mean +- '
            'std over seeds (ddof 1); a difference to the group\'s '
            'reference is called only when its 95 % interval excludes zero '
            '(paired where both are the same trained models - another '
            'decoding, another stack\'s output - Welch otherwise); '
            f'"equivalent within {MARGIN:g}" when two one-sided tests at '
            f'+-{MARGIN:g} points (the 90 % interval inside) say so, '
            '"inconclusive" when neither; each question is one family, '
            'and Holm\'s correction within it says which called differences '
            'it keeps; a variant still gaining 2 points of PCKh@0.5 over '
            'the last quarter of its schedule is *not flat* and supports '
            'no conclusion.', '',
            'Method and calibration (data, model, schedule: why each): '
            'docs/ablation_questions.md.' + (
                '' if not missing else ' Not answered in this report (their '
                'runs not finished, or not asked for): ' + '; '.join(
                    missing) + '.')])
    os.makedirs(args.out, exist_ok=True)
    said = write(args.out, rows, per_stack, costs, info)
    record_outputs(outputs, TOOL)
    if args.readme:
        write_readme(args.readme, readme_lines(
            said, missing,
            osp.relpath(osp.join(args.out, 'ablation.md'),
                        osp.dirname(osp.abspath(args.readme)))))
    print(f'wrote {args.out}/ablation.md, .json and .png '
          f'({wall / 60:.1f} min)')


if __name__ == '__main__':
    main()
