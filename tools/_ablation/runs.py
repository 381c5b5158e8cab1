"""One (training settings, seed) run: train with MMPose's ``tools/train.py``
(held-out evaluations along the way: the curve), test the checkpoint with
``tools/test.py`` once per decoding or stack the variants need. Each run is
cached in ``<work-dir>/runs/<tag>/result.json`` and copied to
``<results>/<tag>.json`` (committed: a later session, whose work dir is
gone, continues from it); an interrupted run starts again. Every training
is tested with every decoding and stack any variant of its settings needs,
whichever variants an invocation names, so that a committed result never
lacks a test whose checkpoint is gone."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, Optional, Tuple

from .variants import (VARIANTS, decoder_options, iterations, settings,
                       training_key, write_variant_config)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# the cache name of each precision: runs of different precisions never
# share a cache entry or a comparison ('_fast' is bf16 autocast +
# channels-last, what --preset fast selected on the CPU with AMX where the
# first such runs trained; channels-last is StackedHourglass's default, so
# fp32 runs need no tag)
PRECISION_TAGS = {None: '', 'bfloat16': '_fast', 'float16': '_fast-fp16'}


def run_tag(key, run: Dict, seed: int) -> str:
    return '_'.join(str(v) for v in key) + \
        f'_{run["data_tag"]}_it{run["iters"]}_b{run["batch"]}' \
        f'_lr{run["lr"]:g}{PRECISION_TAGS[run.get("amp")]}_seed{seed}'


def _speed(run: Dict) -> list:
    """``tools/train.py`` / ``test.py`` flags of the run's precision: bf16
    autocast as ``--amp bf16`` (on any CPU; what --preset fast selects on
    one with AMX), fp16 on CUDA as ``--preset fast`` (with cudnn.benchmark);
    fp32 needs none."""
    if run.get('amp') == 'bfloat16':
        return ['--amp', 'bf16']
    return ['--preset', 'fast'] if run.get('amp') else []


def _call(cmd, log, env):
    with open(log, 'w') as f:
        r = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                           env=env)
    if r.returncode:
        raise RuntimeError(f'{osp.basename(cmd[1])} failed for '
                           f'{osp.dirname(log)}; see {log}')


def _val_curve(work: str):
    """(iteration, PCKh@0.5, PCKh@0.1) of each held-out evaluation."""
    runs = sorted(d for d in os.listdir(work) if osp.isfile(
        osp.join(work, d, 'vis_data', 'scalars.json')))
    with open(osp.join(work, runs[-1], 'vis_data', 'scalars.json')) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return [(r['step'], r['PCK'], r.get('PCK@0.1')) for r in recs
            if 'PCK' in r and 'loss' not in r]


def _test_metrics(work: str) -> Dict:
    """The metrics a tools/test.py run logged (``<timestamp>/<ts>.json``)."""
    found = sorted(glob.glob(osp.join(work, '*', '*.json')))
    with open(found[-1]) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return [r for r in recs if 'AUC' in r][-1]


def tests_needed(key, stacks: int) -> Dict[str, list]:
    """Test name -> ``--cfg-options``: the training's own decoding (last
    stack), DARK where a variant decodes with it, each earlier stack where
    the per-stack table asks."""
    tests = {'': []}
    for n in VARIANTS:
        s = settings(n)
        if training_key(s) != key:
            continue
        if s['codec'] == 'dark':
            tests['dark'] = decoder_options(s)
        if n == 'per-stack':
            for i in range(stacks - 1):
                tests[f'stack{i}'] = [f'model.test_cfg.stack={i}']
    return tests


def result_files(key, run: Dict, seed: int) -> Tuple[str, str]:
    """(the committed result file, the work dir's) of a run."""
    tag = run_tag(key, run, seed)
    return (osp.join(run['results_dir'], f'{tag}.json'),
            osp.join(run['work_dir'], 'runs', tag, 'result.json'))


def cached(key, s: Dict, seed: int, run: Dict) -> Optional[Dict]:
    """The finished run's result when it has every test it needs."""
    for done in result_files(key, run, seed):
        if osp.isfile(done):
            with open(done) as f:
                result = json.load(f)
            ran = result.get('precision', run.get('amp') or 'float32')
            if ran != (run.get('amp') or 'float32'):
                raise RuntimeError(f'{done} ran in {ran}, not the '
                                   f'{run.get("amp") or "float32"} its name '
                                   'says: remove it')
            if has_tests(result, key, s['stacks']):
                return result
    return None


def has_tests(result: Dict, key, stacks: int) -> bool:
    """Whether a finished run has every test its variants need."""
    return set(tests_needed(key, stacks)) <= set(result['tests'])


def train_and_evaluate(key, s: Dict, seed: int, run: Dict,
                       env: Dict) -> Dict:
    """Train one (settings, seed) once; return its curve, timings and the
    test metrics (``tests``: test name -> metrics)."""
    result = cached(key, s, seed, run)
    if result is not None:
        return result
    work = osp.join(run['work_dir'], 'runs', run_tag(key, run, seed))
    done = osp.join(work, 'result.json')
    tests = tests_needed(key, s['stacks'])
    cfg = osp.join(work, 'config.py')
    ckpt = osp.join(work, f'iter_{iterations(s, run)}.pth')
    trained = osp.join(work, 'train.json')
    if not osp.isfile(trained):  # (again, if an earlier attempt broke off)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        write_variant_config(cfg, s, run, seed)
        start = time.time()
        _call([sys.executable, 'tools/train.py', cfg, '--work-dir', work,
               *_speed(run)],
              osp.join(work, 'train.out'), env)
        with open(trained, 'w') as f:
            json.dump(dict(train_time=time.time() - start, started_at=start,
                           val_curve=_val_curve(work)), f)
    with open(trained) as f:
        result = dict(json.load(f), tests={})
    if osp.isfile(done):  # tests of earlier invocations are kept, not rerun
        with open(done) as f:
            earlier = json.load(f)
        result.update(tests=earlier['tests'],
                      test_time=earlier.get('test_time', 0))
    start = time.time()
    for name, opts in tests.items():
        if name in result['tests']:
            continue
        out = osp.join(work, f'test_{name or "default"}')
        _call([sys.executable, 'tools/test.py', cfg, ckpt, '--work-dir', out,
               *_speed(run), *(['--cfg-options', *opts] if opts else [])],
              osp.join(work, f'test_{name or "default"}.out'), env)
        result['tests'][name] = _test_metrics(out)
    result['test_time'] = result.get('test_time', 0) + time.time() - start
    result.update(seed=seed, key=[str(v) for v in key],
                  finished_at=time.time(), precision=run.get('amp') or
                  'float32', machine=run.get('machine'))
    for path in result_files(key, run, seed)[::-1]:
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(result, f)
    return result
