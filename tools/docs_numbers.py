"""Write every number that README.md and docs/*.md take from a run, from the
committed result files, between markers - one command, one source per
number:

    python tools/docs_numbers.py            # rewrite the marked blocks
    python tools/docs_numbers.py --check    # exit 1 naming stale pages

A block is ``<!-- numbers:NAME -->`` ... ``<!-- /numbers:NAME -->``; NAME is
one of :data:`BLOCKS`, each naming the result files it reads:

- ``results``: README's results table - parameter and MAC counts of the
  code as it is (counted here), the demo (``docs/demo.json``, written by
  ``make demo``), GPU and CPU training speed (``benchmarks/**/
  benchmark.json``, each row's settings named from the file), the mix
  sweep (``docs/mix_sweep.json``);
- ``gpu-train-time``: how long hg8 and HG52 take to train on MPII on the
  measured GPU, from its measured img/s;
- ``tests``: the suite's size and time (``docs/test_run.json``, written by
  ``HG_RECORD_TEST_RUN=docs/test_run.json make test``);
- ``demo``: the demo's numbers (``docs/demo.json``);
- ``sweep``: the sweep's counts (``docs/mix_sweep.json``);
- ``model-counts``: parameters and MACs of hg1/2/4/8, counted from the
  code;
- ``cpu-benchmark``, ``cpu-amd-benchmark``, ``h100-benchmark``,
  ``h200-benchmark``: a benchmark's
  tables from its ``benchmark.json`` (the renderer of its benchmark.md);
- ``amp-dtype``: the H100 measurements behind fp16 as CUDA's AMP dtype;
- ``cpu-profile``: the operator-class table of ``benchmarks/profile.md``;
- ``stagewise-loss``: ``tools/compare_training.py``'s loss curves
  (``docs/stagewise_loss.csv``);
- ``dead-biases``: the conv biases hg8 no longer has, counted from the code.

The ablation answers keep their own markers and writer
(``tools/ablation.py --readme``), which this command runs too.
``tests/tools/test_docs_numbers.py`` fails when a block differs from what its
files give.
"""
import argparse
import functools
import json
import os.path as osp
import re
import sys
from typing import Callable, Dict, List

import torch
from _ablation import report
from _bench.catalog import EVERY_MODEL
from _bench.report import (Results, memory_table, models_table,
                           options_table, summary)
from mix_config import real_status
from torch.utils.flop_counter import FlopCounterMode

from hg_plugin.models.backbones import StackedHourglass

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = ['README.md', 'docs/getting_started.md', 'docs/speed.md',
         'docs/mixing.md', 'docs/training.md', 'docs/network_and_configs.md']
MPII_TRAIN_IMAGES = 22246  # records in MMPose's mpii_train.json
MPII_EPOCHS = 210          # the paper's schedule, MMPose's configs'
H200 = 'benchmarks/cuda/h200/benchmark.json'
H100 = 'benchmarks/cuda/benchmark.json'
CPU = 'benchmarks/benchmark.json'
# the CPU of the sessions since 2026-12 (AVX2 only: fp32 rows)
CPU_AMD = 'benchmarks/cpu_amd_epyc/benchmark.json'


def load(path: str):
    full = osp.join(REPO, path)
    if not osp.isfile(full):
        sys.exit(f'error: {path} is missing: run the command that writes '
                 'it (tools/docs_numbers.py names them), or restore it with git')
    with open(full) as f:
        return json.load(f)


def bench(path: str):
    """(machine, Results) of a benchmark file."""
    data = load(path)
    return data['machine'], Results(data['results'])


def settings_words(row: Dict) -> str:
    """A benchmark row's settings as a reader says them."""
    s = row.get('settings') or {}
    # (no layout key: each model's own - hg8 channels-last, the zoo's NCHW)
    words = ['channels-last' if s.get('channels_last') else 'as configured',
             {'float16': 'fp16', 'bfloat16': 'bf16'}.get(s['amp'], s['amp'])
             if s.get('amp') else 'fp32']
    if s.get('compile'):
        words.append('torch.compile')
    return ' + '.join(words)


@functools.lru_cache(maxsize=None)
def model_counts() -> Dict[str, tuple]:
    """(parameters in M, GMACs at 256x256) of hg1/2/4/8, K=16, counted from
    the code as it is."""
    out = {}
    for n in (1, 2, 4, 8):
        net = StackedHourglass(num_stacks=n).eval()
        with torch.no_grad(), FlopCounterMode(display=False) as fc:
            net(torch.zeros(1, 3, 256, 256))
        out[f'hg{n}'] = (sum(p.numel() for p in net.parameters()) / 1e6,
                         fc.get_total_flops() / 2e9)
    return out


def sweep_counts() -> Dict[str, int]:
    rows = load('docs/mix_sweep.json')
    n = {s: sum(real_status(r) == s for r in rows)
         for s in ('passed', 'failed', 'no samples')}
    n.update(configs=len(rows),
             unsupported=sum(r['status'] == 'unsupported' for r in rows),
             step_failed=sum(r['status'] == 'failed' for r in rows))
    return n


def sweep_block() -> List[str]:
    n = sweep_counts()
    return [f"{n['passed']} of {n['configs']} config families pass "
            "train / val / test / Inferencer through MMPose's own tools on "
            f"real images; {n['no samples']} have no real samples here, "
            f"refused: {n['unsupported']}, {n['failed']} failed a stage "
            f"([docs/mix_sweep.json](docs/mix_sweep.json))."]


def load_words(d: Dict) -> str:
    """The machine's 1-minute load average when a run ended: above its
    core count, other work shared the cores and the minutes are longer."""
    return f" (1-minute load average at the end {d['load']:.1f})" \
        if 'load' in d else ''


def demo_block() -> List[str]:
    d = load('docs/demo.json')
    return [f"Its last recorded run ([docs/demo.json](docs/demo.json)): "
            f"held-out PCKh@0.5 = {d['pckh']:.3f}, PCKh@0.1 = "
            f"{d['pckh_0.1']:.3f}, {d['minutes']:.1f} min"
            f"{' (resuming an earlier run)' if d.get('resumed') else ''} "
            f"on {d['machine']}{load_words(d)}."]


def tests_block() -> List[str]:
    t = load('docs/test_run.json')
    others = ', '.join(f'{t[k]} {k}' for k in ('failed', 'skipped',
                                                'deselected') if t.get(k))
    return [f"The last recorded full run ([docs/test_run.json]"
            f"(docs/test_run.json)): {t['passed']} tests passed"
            f"{', ' + others if others else ''} in "
            f"{t['seconds'] / 60:.1f} min on {t['machine']} "
            f"({t['workers']} pytest-xdist workers){load_words(t)}."]


def gpu_train_time_block() -> List[str]:
    machine, res = bench(H200)
    best = {}
    for model in ('hg8', 'hourglass52-mpii'):
        rows = [r for r in res.rows if r['model'] == model and
                r.get('train_img_s') and not r['settings'].get('compile')]
        best[model] = max(rows, key=lambda r: r['train_img_s'])
    hours = {m: MPII_TRAIN_IMAGES * MPII_EPOCHS / r['train_img_s'] / 3600
             for m, r in best.items()}
    hg8, hg52 = best['hg8'], best['hourglass52-mpii']
    return [f"Training time on MPII ({MPII_EPOCHS} epochs of its "
            f"{MPII_TRAIN_IMAGES:,} training images) at the measured speed "
            f"on one {machine.split(',')[0].replace('NVIDIA ', '')} "
            f"(batch {hg8['train_batch']}, eager, the fastest measured "
            f"settings, [{H200}]({H200})): hg8 about {hours['hg8']:.1f} h "
            f"({hg8['train_img_s']:.0f} img/s, {settings_words(hg8)}), "
            f"MMPose's HG52 about {hours['hourglass52-mpii']:.1f} h "
            f"({hg52['train_img_s']:.0f} img/s, {settings_words(hg52)}); "
            "data loading and validation not included."]


def results_block() -> List[str]:
    counts = model_counts()
    demo = load('docs/demo.json')
    lines = ['| what | number | source, machine, settings |',
             '|---|---|---|',
             f"| hg8 (K=16) parameters / MACs at 256x256 | "
             f"{counts['hg8'][0]:.2f} M / {counts['hg8'][1]:.2f} G | counted "
             "from the code (`tools/docs_numbers.py`, operator level) |",
             '| hg1 / hg2 / hg4 parameters | ' + ' / '.join(
                 f"{counts[k][0]:.2f}" for k in ('hg1', 'hg2', 'hg4')) +
             ' M | the same |',
             f"| demo, held-out PCKh@0.5 / @0.1 | {demo['pckh']:.3f} / "
             f"{demo['pckh_0.1']:.3f} | [docs/demo.json](docs/demo.json), "
             f"{demo['machine']} |"]
    for path in (H200, H100):
        machine, res = bench(path)
        gpu = machine.split(',')[0].replace('NVIDIA ', '')
        for variant in ('plain', 'cl-amp', 'fast'):
            ours, hg52 = res.find('hg8', variant), res.find(
                'hourglass52-mpii', variant)
            if not (ours.get('train_img_s') and hg52.get('train_img_s')):
                continue
            lines.append(
                f"| hg8 vs MMPose's HG52 training, {gpu}, batch "
                f"{ours['train_batch']}, {settings_words(ours)} | "
                f"{ours['train_img_s']:.0f} vs {hg52['train_img_s']:.0f} "
                f"img/s ({ours['train_img_s'] / hg52['train_img_s']:.2f}x) "
                f"| [{path}]({path}) |")
    for path in (CPU, CPU_AMD):
        if not osp.isfile(osp.join(REPO, path)):  # (not measured yet)
            continue
        machine, res = bench(path)
        for variant in ('plain', 'cl-amp', 'fast'):
            ours, hg52 = res.find('hg8', variant), res.find(
                'hourglass52-mpii', variant)
            if ours.get('train_img_s') and hg52.get('train_img_s'):
                lines.append(
                    f"| hg8 vs HG52 training, CPU, batch "
                    f"{ours['train_batch']}, {settings_words(ours)} | "
                    f"{ours['train_img_s']:.2f} vs "
                    f"{hg52['train_img_s']:.2f} img/s "
                    f"({ours['train_img_s'] / hg52['train_img_s']:.2f}x) | "
                    f"[{path}]({path}), {machine.split(',')[0]} |")
    n = sweep_counts()
    lines.append(
        f"| mixed MMPose configs through MMPose's own tools on real images "
        f"(one per family) | {n['passed']} of {n['configs']} pass train / "
        f"val / test / Inferencer; {n['no samples']} no samples, "
        f"{n['unsupported']} refused, {n['failed']} failed | "
        "[docs/mix_sweep.json](docs/mix_sweep.json), 2-core CPU |")
    return lines


def model_counts_block() -> List[str]:
    counts = model_counts()
    return ['| model | params (K=16) | MACs at 256x256 |', '|---|---|---|',
            *(f'| {k} | {p:.2f} M | {m:.2f} G |'
              for k, (p, m) in counts.items()),
            '', 'Counted from the code by `tools/docs_numbers.py` '
            '(operator level); the reference implementations have 239 more '
            'tensors in hg8 - conv biases that feed a batch-norm, folded '
            'into its running mean when their weights load.']


def benchmark_block(path: str) -> List[str]:
    """A benchmark's tables from its JSON, by the renderer that writes its
    benchmark.md: every model at each shared setting, hg8's options,
    against HG52 and the data pipeline, the memory study."""
    machine, res = bench(path)
    shown = [v for v in EVERY_MODEL if res.find('hg8', v)]
    mem = res.find('hg8', 'plain', 'memory')
    return ([f'Machine: {machine} ([{path}]({path})); training and '
             f"inference batch {res.find('hg8', 'plain')['train_batch']}, "
             'random weights, synthetic inputs, each row in its own '
             'process.', ''] + models_table(res, shown) +
            options_table(res, 'hg8') + summary(res, 'hg8') +
            (memory_table(res, 'hg8', mem['train_batch']) if mem else []))


def amp_dtype_block() -> List[str]:
    machine, res = bench(H100)
    f16, b16, f32 = (res.find('hg8', v) for v in ('amp-fp16', 'cl-amp',
                                                  'plain'))
    return [f"Why fp16 on CUDA, measured on an "
            f"{machine.split(',')[0].replace('NVIDIA ', '')} "
            f"([{H100}]({H100}), batch {f16['train_batch']}): hg8 trains at "
            f"{f16['train_img_s']:.0f} img/s in fp16 vs "
            f"{b16['train_img_s']:.0f} in bf16 (channels-last) and "
            f"{f32['train_img_s']:.0f} in fp32, and infers at "
            f"{f16['infer_img_s']:.0f} vs {b16['infer_img_s']:.0f} img/s."]


def profile_block() -> List[str]:
    """The CPU profile's operator-class table (benchmarks/profile.md, which
    ``tools/benchmark.py --profile`` writes)."""
    with open(osp.join(REPO, 'benchmarks/profile.md')) as f:
        text = f.read()
    head, table = text.split('\n\n', 1)
    rows = table.split('\n\n', 1)[0]
    return [head + ' ([benchmarks/profile.md](benchmarks/profile.md))', '',
            rows]


def stagewise_loss_block() -> List[str]:
    """The loss curves of tools/compare_training.py at a few iterations
    (docs/stagewise_loss.csv, which it writes)."""
    with open(osp.join(REPO, 'docs/stagewise_loss.csv')) as f:
        rows = [line.strip().split(',') for line in f if line.strip()]
    modes, by_it = rows[0][1:], {int(r[0]): r[1:] for r in rows[1:]}
    its = [i for i in (1, 10, 50, 100, 250) if i in by_it]
    return ['| mode | ' + ' | '.join(f'loss at it. {i}' for i in its) +
            ' |', '|---|' + '---|' * len(its),
            *(f'| {m} | ' + ' | '.join(by_it[i][j] for i in its) + ' |'
              for j, m in enumerate(modes)), '',
            '([docs/stagewise_loss.csv](docs/stagewise_loss.csv))']


def dead_biases_block() -> List[str]:
    """The dead conv biases hg8 no longer has, counted from the code."""
    net = StackedHourglass(num_stacks=8)
    keys = net.dead_bias_keys
    shapes = dict(net.named_modules())
    params = sum(shapes[k.rsplit('.', 1)[0]].out_channels for k in keys)
    total = sum(p.numel() for p in net.parameters())
    return [f'hg8 (K=16): {len(keys)} convolutions feed a batch-norm and '
            f'have no bias: {len(keys)} bias-add passes and {len(keys)} '
            f'bias-gradient reductions less per training step, and '
            f'{params:,} parameters ({total:,} instead of '
            f'{total + params:,}); counted from the code.']


BLOCKS: Dict[str, Callable[[], List[str]]] = {
    'cpu-benchmark': functools.partial(benchmark_block, CPU),
    'cpu-amd-benchmark': functools.partial(benchmark_block, CPU_AMD),
    'h100-benchmark': functools.partial(benchmark_block, H100),
    'h200-benchmark': functools.partial(benchmark_block, H200),
    'amp-dtype': amp_dtype_block, 'cpu-profile': profile_block,
    'stagewise-loss': stagewise_loss_block,
    'dead-biases': dead_biases_block,
    'model-counts': model_counts_block,
    'results': results_block, 'gpu-train-time': gpu_train_time_block,
    'tests': tests_block, 'demo': demo_block, 'sweep': sweep_block}
MARK = re.compile(r'<!-- numbers:([\w-]+) -->\n(.*?)<!-- /numbers:\1 -->',
                  re.S)


def relative_links(text: str, page: str) -> str:
    """Links of a block (written from the repository root) as ``page``
    needs them."""
    if '/' not in page:
        return text
    return re.sub(r'\]\((?!https?:)', '](../', text).replace(
        '](../docs/', '](')


def render(text: str, cache: Dict[str, str], page: str = 'README.md') -> str:
    """``text`` of ``page`` with every marked block rewritten (``cache``:
    block name -> its text, so that a block used twice is computed once)."""
    def block(m):
        name = m[1]
        if name not in BLOCKS:
            sys.exit(f'error: unknown block <!-- numbers:{name} -->: '
                     f'choose from {", ".join(BLOCKS)}')
        if name not in cache:
            cache[name] = '\n'.join(BLOCKS[name]()) + '\n'
        return f'<!-- numbers:{name} -->\n' + \
            relative_links(cache[name], page) + f'<!-- /numbers:{name} -->'
    return MARK.sub(block, text)


def ablation_readme(text: str) -> str:
    """README's ablation block from docs/ablation.json."""
    data = load('docs/ablation.json')
    before, _, after = report.readme_block(text, 'README.md')
    lines = report.readme_lines(data.get('summary', data['answers']),
                                data['missing'], 'docs/ablation.md')
    return (f'{before}{report.README_START}\n' + '\n'.join(lines) +
            f'\n{report.README_END}{after}')


def rendered_pages() -> Dict[str, tuple]:
    """page -> (its text, the text with every block rewritten)."""
    cache, out = {}, {}
    for page in PAGES:
        with open(osp.join(REPO, page)) as f:
            text = f.read()
        new = render(text, cache, page)
        if page == 'README.md':
            new = ablation_readme(new)
        out[page] = (text, new)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--check', action='store_true',
                   help='write nothing; exit 1 naming the pages whose '
                   'blocks differ from their result files')
    args = p.parse_args()
    stale = []
    for page, (old, new) in rendered_pages().items():
        if old == new:
            continue
        stale.append(page)
        if not args.check:
            with open(osp.join(REPO, page), 'w') as f:
                f.write(new)
    if args.check and stale:
        sys.exit(f'error: {", ".join(stale)}: numbers differ from the result '
                 'files; run python tools/docs_numbers.py')
    print(('differ: ' if args.check else 'rewrote: ') + (
        ', '.join(stale) or 'nothing'))


if __name__ == '__main__':
    main()
