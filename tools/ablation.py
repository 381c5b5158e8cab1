"""Ablations of the stacked hourglass: the paper's questions and the seed's,
each with its own comparison, on models trained until their held-out curves
are flat, with seeds, intervals and a report.

    python tools/ablation.py                      # the grid (hours, cached)
    python tools/ablation.py --preset fast        # the same, bf16 with AMX
    python tools/ablation.py --variants sup,backward --seeds 0 1 2
    python tools/ablation.py --quick              # plumbing check, a minute
    python tools/ablation.py --cached-only --readme README.md  # report so far
    python tools/ablation.py --data-root data/mpii --device cuda --iters 20000

Every variant (``tools/_ablation/variants.py``) is a config trained with
MMPose's ``tools/train.py`` on one train split and tested with
``tools/test.py`` on a held-out split (MPII layout, MMPose's PCKh via
``MpiiPCKhCurve``). Without ``--data-root`` the data is the ``medium``
synthetic MPII set (:mod:`hg_plugin.synthetic`), made once with a fixed
seed. Runs are cached (``<work-dir>/runs/*/result.json``): an interrupted or
repeated invocation trains only what is missing. A difference to the
group's reference is called only when its 95 % Welch interval excludes zero;
comparisons within twice the seed spread get ``--max-seeds`` seeds; a
variant whose held-out PCKh@0.5 still rises 2 points over the last quarter
of its schedule is marked *not converged* and supports no conclusion, so
its comparisons get no extra seeds (``tools/_ablation/stats.py``).
Writes ``<out>/ablation.{md,json,png}``.
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
from _ablation.stats import (MORE_SEEDS, extra_seeds, last_quarter_gain,
                             needs_more_seeds)
from _ablation.variants import (BASE, GROUPS, OPTIONAL, VARIANTS,
                                is_reference, iterations, model_cost,
                                reference_of, settings, training_key,
                                write_variant_config)
from _cli import guard_outputs, record_outputs
from tqdm import tqdm

from hg_plugin.presets import fast_settings
from hg_plugin.synthetic import VERSIONS, make_synthetic_mpii

TOOL = 'tools/ablation.py'
TITLES = dict(
    sup='Paper: intermediate supervision (4 stacks, equal parameters)',
    stacks='Paper: 1, 2, 4 stacks at about equal parameters and MACs',
    backward='Seed question (a): backward per stack vs one backward',
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
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--max-seeds', type=int, default=MORE_SEEDS,
                   help='seeds for a comparison within twice its spread')
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
                   help='train and test with tools/train.py\'s --preset '
                   '(hg_plugin.presets: mixed precision where the device '
                   'gains from it); runs are cached apart')
    p.add_argument('--jobs', type=int, default=2,
                   help='trainings at a time (each with cores/jobs threads)')
    p.add_argument('--work-dir', default='work_dirs/ablation')
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
        args.seeds, args.max_seeds, args.iters, args.evals = \
            args.seeds[:1], 1, 8, 4
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


def run_grid(wanted, run, env, names, bar) -> dict:
    """Every (training, seed) of ``wanted`` at most ``--jobs`` at a time;
    finished runs are cached for the next invocation. ``bar`` counts
    training iterations (a 4x schedule is 4 runs' worth), the cached runs'
    as already done, so that its ETA is about the trainings left."""
    results = {k: cached(k[0], s, k[1], run, names)
               for k, s in wanted.items()}
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
                               seed, run, env, names): (key, seed)
                   for key, seed in order}
        for fut in as_completed(futures):
            try:
                results[futures[fut]] = fut.result()
            except RuntimeError as e:  # finished runs are kept for next time
                pool.shutdown(cancel_futures=True)
                sys.exit(f'error: {str(e).splitlines()[0]}')
            bar.update(iterations(todo[futures[fut]], run))
    return results


def seeds_to_add(names, seeds, results, max_seeds) -> dict:
    """(training key, seed) -> settings of the extra seeds that
    comparisons within twice their spread need (where both curves
    flattened: :func:`needs_more_seeds`)."""
    extra = {}
    for n in names:
        ref = reference_of(n)
        if ref is None or ref == n:
            continue
        runs = {m: [results[(training_key(settings(m)), sd)] for sd in seeds]
                for m in (n, ref)}
        pck = {m: [metrics_of(r, m)['PCK'] for r in runs[m]] for m in runs}
        gains = [last_quarter_gain(mean_curve(runs[m])) for m in runs]
        if needs_more_seeds(pck[n], pck[ref], max_seeds, gains):
            for m in (n, ref):
                for sd in extra_seeds(seeds, max_seeds):
                    extra[(training_key(settings(m)), sd)] = settings(m)
    return extra


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


def finished_runs(names, run, args):
    """``--cached-only``: (the finished runs, the variants they answer):
    a variant counts when at least ``--seeds``' number of its seeds (extra
    seeds of close calls included) finished with the tests it needs;
    nothing is trained."""
    results, answered = {}, []
    seeds = [*args.seeds, *extra_seeds(args.seeds, args.max_seeds)]
    for n in names:
        s = settings(n)
        key = training_key(s)
        found = {sd: cached(key, s, sd, run, [n]) for sd in seeds}
        found = {sd: r for sd, r in found.items() if r is not None}
        if len(found) >= len(args.seeds):
            answered.append(n)
            results.update({(key, sd): r for sd, r in found.items()})
    return results, answered


def precision(args) -> str:
    """How the runs computed, for the report."""
    if not args.preset:
        return 'fp32'
    amp = fast_settings(args.device)['amp']
    return (f'--preset {args.preset} (' +
            (f'{amp} autocast' if amp else 'fp32') + ', channels-last)')


def measure_costs(run, names) -> dict:
    """Step time and activation memory of the backward question."""
    chosen = [n for n in ('backward-once', 'backward-per-stack')
              if n in names]
    if len(chosen) < 2:
        return {}
    folder = osp.join(run['work_dir'], 'costs')
    os.makedirs(folder, exist_ok=True)
    configs = {}
    for n in chosen:
        configs[n] = osp.join(folder, f'{n}.py')
        write_variant_config(configs[n], settings(n), run, 0)
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
    machine = (f'{os.cpu_count()} CPU cores ('
               f'{platform.processor() or platform.machine()})'
               if args.device == 'cpu' else args.device)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if args.device == 'cpu':  # MMEngine takes the GPU whenever it sees one
        env['CUDA_VISIBLE_DEVICES'] = ''
    run = dict(vars(args))
    wanted = {}
    for n in names:
        for sd in args.seeds:
            wanted.setdefault((training_key(settings(n)), sd), settings(n))
    start = time.time()
    asked = list(names)
    if args.cached_only:
        results, names = finished_runs(asked, run, args)
    else:
        bar = tqdm(total=0, desc='ablation', unit=' iterations',
                   smoothing=0)
        results = run_grid(wanted, run, env, names, bar)
        extra = seeds_to_add(names, args.seeds, results, args.max_seeds)
        extra = {k: s for k, s in extra.items() if k not in results}
        results.update(run_grid(extra, run, env, names, bar))
        bar.close()
    costs = measure_costs(run, names)
    wall = time.time() - start
    rows = []
    for n in names:
        key = training_key(settings(n))
        runs = [results[k] for k in sorted(results) if k[0] == key
                and test_of(n) in results[k]['tests']]
        if n != 'per-stack' and runs:
            rows.append(variant_row(n, runs))
    compare(rows, args.max_seeds)
    per_stack = None
    key = training_key(settings('per-stack'))
    stacks = settings('per-stack')['stacks']
    # the reference's seeds that other variants added may lack these tests
    tested = [results[k] for k in sorted(results) if k[0] == key
              and has_tests(results[k], key, stacks, ['per-stack'])]
    if 'per-stack' in names and tested:
        per_stack = per_stack_rows(tested, stacks)
    missing = unanswered(asked, rows)
    compute = sum(r['train_time'] + r.get('test_time', 0)
                  for r in results.values())
    info = dict(
        titles=TITLES, iters=args.iters, batch=args.batch, lr=args.lr,
        difficulty=args.difficulty, machine=machine, jobs=args.jobs,
        precision=precision(args),
        run_minutes=compute / 60, wall_minutes=wall / 60,
        missing=missing,
        intro=[
            f'Data: {data_desc}. Every run: {args.iters} iterations of batch '
            f'{args.batch} (4 times that where a variant says 4x '
            f'iterations), RMSprop with a warm-up to lr {args.lr:g} and '
            'cosine decay to 0 (the decay flattens a curve; the last-quarter '
            'gain checks that it did), the '
            'paper\'s augmentation (flip, rotation +-30 deg, scale '
            '0.75-1.25), no flip test; held-out PCKh (MMPose\'s, head-size '
            f'normalised) after {args.evals} evaluations along the way; '
            f'{precision(args)}.', '',
            f'Where and how long: {machine}, {args.jobs} trainings at a '
            f'time; the runs took {compute / 60:.0f} min of run time in all '
            f'(about {compute / 60 / args.jobs:.0f} min of wall time at '
            f'{args.jobs} at a time; cached runs count with the time they '
            f'took); this invocation {wall / 60:.1f} min.', '',
            'Rule for every sentence: mean +- std over seeds (ddof 1); a '
            'difference to the group\'s reference is called only when its '
            '95 % Welch interval excludes zero; comparisons within twice '
            f'the seed spread get {args.max_seeds} seeds (where both '
            'curves flattened); a variant still '
            'gaining 2 points of PCKh@0.5 over the last quarter of its '
            'schedule is *not converged* and supports no conclusion.', '',
            'Calibration (data, model, schedule: why each) and the questions: '
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
