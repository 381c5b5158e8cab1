"""The benchmark's reports from its results: benchmark.json/csv, the
markdown tables (every model at equal settings, one model's options, the
summary against the reference and HG52, the memory study) and the plot."""
import csv
import json
import os
import os.path as osp

import matplotlib

from .catalog import EVERY_MODEL, HG8_VARIANTS, MODELS, machine

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def fmt(v, digits=1):
    return '' if v is None else (f'{v:.{digits}f}' if isinstance(v, float)
                                 else str(v))


def ratio(v, ref):
    return '' if v is None or not ref else f'{v / ref:.2f}x'


class Results:
    """Lookups over the result rows: a row, its error, a variant's
    settings in words."""

    def __init__(self, rows):
        self.rows = rows

    def find(self, model, variant, study='main') -> dict:
        return next((r for r in self.rows if r['model'] == model and
                     r['variant'] == variant and
                     r.get('study', 'main') == study and 'error' not in r),
                    {})

    def error(self, model, variant, study='main') -> str:
        return next((r['error'] for r in self.rows if r['model'] == model
                     and r['variant'] == variant and 'error' in r and
                     r.get('study', 'main') == study), '')

    def settings_text(self, variant) -> str:
        st = next((r['settings'] for r in self.rows
                   if r['variant'] == variant and 'settings' in r), None)
        if st is None:
            return ''
        st = {**{k: v for k, v in st.items() if k != 'ours'},
              **st.get('ours', {})}
        on = [k if v is True else f'{k}={v}' for k, v in st.items()
              if v not in (None, {}) and k not in ('train', 'infer',
                                                   'cuda_only')]
        return ', '.join(on) or 'as configured'


CSV_KEYS = ['model', 'variant', 'study', 'input', 'params_m', 'gmacs',
            'latency_ms', 'infer_img_s', 'train_batch', 'train_img_s',
            'first_step_s', 'peak_mem_mib', 'samples_s', 'accuracy_metric',
            'accuracy', 'accuracy_source', 'settings', 'error']


def write_data_files(results, args, accuracy) -> None:
    """benchmark.json (with the machine) and benchmark.csv; the plain rows
    get the model's known accuracy."""
    for r in results:
        acc = accuracy.get(r['model']) if (
            r['variant'], r.get('study')) == ('plain', 'main') else None
        if acc:
            r.update(accuracy_metric=acc[0], accuracy=acc[1],
                     accuracy_source=acc[2])
    with open(osp.join(args.out_dir, 'benchmark.json'), 'w') as f:
        json.dump(dict(machine=machine(args.device), results=results), f,
                  indent=1)
    with open(osp.join(args.out_dir, 'benchmark.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, CSV_KEYS, extrasaction='ignore')
        w.writeheader()
        w.writerows(results)


def run_header(args) -> list:
    """How the run measured (what benchmark.json does not hold)."""
    return [f'Machine: {machine(args.device)}. Medians of {args.repeat} '
            f'runs after {args.warmup} warm-up; inference batch '
            f'{args.batch}, training batch {args.train_batch} (forward, '
            'loss, backward, optimizer step of the config). Random weights,'
            ' synthetic inputs; each row in its own process.', '']


def models_table(res: Results, shown) -> list:
    """Every model at each shared setting, with ratios to hg8's."""
    lines = [f'- **{v}**: {res.settings_text(v)}' for v in shown]
    head = '| model | params (M) | GMACs | accuracy |'
    rule = '|---|---|---|---|'
    for v in shown:
        head += (f' {v}: latency b1 (ms) | {v}: train img/s | {v}: vs hg8 '
                 'latency | train |')
        rule += '---|---|---|---|'
    lines += ['', 'Every model with the same settings (ratios to hg8 with '
              'the same settings; latency <1 and train >1: faster than hg8):',
              '', head, rule]
    for m in [m for m in MODELS if any(r['model'] == m for r in res.rows)]:
        plain = res.find(m, 'plain')
        acc = (f"{plain['accuracy']:.3f} {plain['accuracy_metric']} "
               f"({plain['accuracy_source']})" if plain.get('accuracy')
               else '')
        row = (f"| {m} | {fmt(plain.get('params_m'), 2)} | "
               f"{fmt(plain.get('gmacs'), 2)} | {acc} |")
        for v in shown:
            r, ref = res.find(m, v), res.find('hg8', v)
            if not r:
                row += f' {res.error(m, v)[:60]} | | | |'
                continue
            row += (f" {fmt(r.get('latency_ms'))} | "
                    f"{fmt(r.get('train_img_s'), 2)} | "
                    f"{ratio(r.get('latency_ms'), ref.get('latency_ms'))} | "
                    f"{ratio(r.get('train_img_s'), ref.get('train_img_s'))} |")
        lines.append(row)
    return lines


def options_table(res: Results, hg: str) -> list:
    """One model's speed options, with ratios to it as shipped."""
    ref = res.find(hg, 'plain')
    lines = ['', f'{hg} options (ratios to plain {hg} = the shipped config; '
             '>1 is faster / more memory):', '',
             '| option | settings | latency b1 (ms) | infer img/s | '
             'train img/s | peak train mem (MiB) | latency | infer | train '
             '| mem |', '|' + '---|' * 10]
    for v in [*EVERY_MODEL, *HG8_VARIANTS]:
        r = res.find(hg, v)
        if not r:
            if res.error(hg, v):
                lines.append(f"| {v} | {res.error(hg, v)[:120]} |" + ' |' * 8)
            continue
        lines.append(
            f"| {v} | {res.settings_text(v)} | {fmt(r.get('latency_ms'))} | "
            f"{fmt(r.get('infer_img_s'), 2)} | {fmt(r.get('train_img_s'), 2)}"
            f" | {fmt(r.get('peak_mem_mib'), 0)} | "
            f"{ratio(ref.get('latency_ms'), r.get('latency_ms'))} | "
            f"{ratio(r.get('infer_img_s'), ref.get('infer_img_s'))} | "
            f"{ratio(r.get('train_img_s'), ref.get('train_img_s'))} | "
            f"{ratio(r.get('peak_mem_mib'), ref.get('peak_mem_mib'))} |")
    return lines


def summary(res: Results, hg: str) -> list:
    """Against the reference layout, against HG52, and the data pipeline."""
    ref = res.find(hg, 'plain')
    pv = res.find(hg, 'reference-layout')
    lines = []
    if pv and ref:
        lines.append(
            f"- {hg} as shipped vs the reference layout fed as its code feeds"
            " it (NHWC permuted): training throughput "
            f"{ratio(ref.get('train_img_s'), pv.get('train_img_s'))}, "
            "batch-1 speed "
            f"{ratio(pv.get('latency_ms'), ref.get('latency_ms'))} of the "
            "reference's (>1: ours faster).")
    for v in ('fast', 'cl-amp'):
        ours, hg52 = res.find(hg, v), res.find('hourglass52-mpii', v)
        if not (ours.get('train_img_s') and hg52.get('train_img_s')):
            continue
        first = ('' if ours.get('first_step_s') is None else
                 f"; first step (compilation included) "
                 f"{ours['first_step_s']:.0f} s vs "
                 f"{hg52.get('first_step_s') or 0:.0f} s")
        latency = ('' if not ours.get('latency_ms') else
                   ', batch-1 latency ' + ratio(
                       ours['latency_ms'], hg52.get('latency_ms')) +
                   " of HG52's (target: <= 1.00x)")
        lines.append(
            f"- Against MMPose's HG52 at `{v}` ({res.settings_text(v)}): "
            f"{hg} trains at {img_s(ours['train_img_s'])} img/s vs "
            f"{img_s(hg52['train_img_s'])}, "
            f"{ratio(ours['train_img_s'], hg52['train_img_s'])} of HG52's "
            f"throughput (target: >= 1.00x), peak training memory "
            f"{ours.get('peak_mem_mib', 0) / 1024:.1f} GiB vs "
            f"{hg52.get('peak_mem_mib', 0) / 1024:.1f} GiB{latency}{first}.")
    data = res.find('data', 'train pipeline', 'data')
    if data:
        need = res.find(hg, 'fast') or ref
        workers = (need.get('train_img_s', 0) / data['samples_s'])
        lines.append(
            f"- MMPose's MPII training pipeline (load, flip, rotate/scale, "
            f"affine, 64x64 target, pack): {data['samples_s']:.0f} samples/s"
            f" per worker process (one thread); {hg} `fast` training here "
            f"consumes {need.get('train_img_s', 0):.1f} img/s, i.e. "
            f"{workers:.2f} workers' worth.")
    return [''] + lines if lines else []


def memory_table(res: Results, hg: str, batch: int) -> list:
    """The activation-memory study: plain, with_cp, stagewise."""
    mem_ref = res.find(hg, 'plain', 'memory')
    if not mem_ref:
        return []
    lines = ['', f'{hg} training at batch {batch} (activation memory '
             'study):', '', '| mode | train img/s | step time vs plain | '
             'peak mem (MiB) | mem vs plain |', '|---|---|---|---|---|']
    for v in ('plain', 'with_cp', 'stagewise'):
        r = res.find(hg, v, 'memory')
        if r:
            lines.append(
                f"| {v} | {fmt(r['train_img_s'], 2)} | "
                f"{ratio(mem_ref.get('train_img_s'), r['train_img_s'])} | "
                f"{fmt(r['peak_mem_mib'], 0)} | "
                f"{ratio(r['peak_mem_mib'], mem_ref.get('peak_mem_mib'))} |")
        elif res.error(hg, v, 'memory'):
            lines.append(f"| {v} | {res.error(hg, v, 'memory')} | | | |")
    return lines


def write_reports(results, args, accuracy) -> str:
    """Write every report into ``args.out_dir``; returns the markdown."""
    os.makedirs(args.out_dir, exist_ok=True)
    write_data_files(results, args, accuracy)
    res = Results(results)
    shown = [v for v in EVERY_MODEL if any(r['variant'] == v
                                           for r in results)]
    hg = args.variants_model
    lines = (run_header(args) + models_table(res, shown) +
             options_table(res, hg) +
             summary(res, hg) + memory_table(res, hg, args.memory_batch))
    with open(osp.join(args.out_dir, 'benchmark.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    plot(results, args)
    return '\n'.join(lines)


def img_s(value: float) -> str:
    """An img/s figure to the digits that a benchmark resolves (a CPU's
    0.61, a GPU's 266)."""
    return f'{value:.0f}' if value >= 10 else f'{value:.2f}'


def plot(results, args):
    pts = [r for r in results if r['variant'] == 'plain' and
           r.get('accuracy_metric') == 'MPII PCKh' and 'error' not in r and
           r.get('study') == 'main']
    # (--train-only measures no inference: its training speed instead)
    speed, what, batch = ('infer_img_s', 'inference', args.batch) if all(
        'infer_img_s' in r for r in pts) else (
        'train_img_s', 'training', args.train_batch)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, label in ((axes[0], 'gmacs', 'GMACs (input 256x256)'),
                           (axes[1], speed,
                            f'{what} img/s ({args.device}, batch '
                            f'{batch})')):
        for r in pts:
            ax.scatter(r[key], 100 * r['accuracy'],
                       marker='*' if r['model'].startswith('hg') else 'o',
                       s=120)
            ax.annotate(f"{r['model']} ({r['accuracy_source']})",
                        (r[key], 100 * r['accuracy']),
                        textcoords='offset points', xytext=(5, 5), fontsize=8)
        ax.set_xlabel(label)
        ax.set_ylabel('MPII PCKh@0.5 (%)')
        ax.grid(alpha=0.3)
    fig.suptitle('Accuracy: zoo = MMPose metafile (MPII val), paper = Newell '
                 'et al. (MPII test); COCO entries not shown', fontsize=9)
    fig.tight_layout()
    fig.savefig(osp.join(args.out_dir, 'benchmark.png'), dpi=110)
