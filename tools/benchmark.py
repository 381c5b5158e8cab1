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
import platform
import re
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ZOO = 'mmpose::body_2d_keypoint/topdown_heatmap/'
# name: (config, accuracy source); accuracy: MPII PCKh@0.5 (val, "Mean") or
# COCO AP, from the zoo's metafile, or the paper (MPII test set) for hg8.
MODELS = {
    'hg1': ('configs/hg1_mpii_256.py', None),
    'hg2': ('configs/hg2_mpii_256.py', None),
    'hg4': ('configs/hg4_mpii_256.py', None),
    'hg8': ('configs/hg8_mpii_256.py', ('MPII PCKh', 0.909, 'paper')),
    'hourglass52-mpii':
    (ZOO + 'mpii/td-hm_hourglass52_8xb64-210e_mpii-256x256.py', 'zoo'),
    'hourglass52-coco':
    (ZOO + 'coco/td-hm_hourglass52_8xb32-210e_coco-256x256.py', 'zoo'),
    'res50-mpii': (ZOO + 'mpii/td-hm_res50_8xb64-210e_mpii-256x256.py', 'zoo'),
    'hrnet-w32-mpii':
    (ZOO + 'mpii/td-hm_hrnet-w32_8xb64-210e_mpii-256x256.py', 'zoo'),
}
VARIANTS = ('amp-bf16', 'amp-fp16', 'channels_last', 'compile', 'with_cp',
            'stagewise')


# ----------------------------------------------------------- in the worker
def rss_kib(field='VmRSS'):
    with open('/proc/self/status') as f:
        return int(re.search(rf'{field}:\s+(\d+)', f.read()).group(1))


def config_path(config):
    """A repository path, or ``mmpose::...`` inside the installed MMPose."""
    if '::' not in config:
        return osp.join(REPO, config)
    from mmengine.config.utils import _get_package_and_cfg_path
    from mmengine.utils import get_installed_path
    pkg, rel = _get_package_and_cfg_path(config)
    return osp.join(get_installed_path(pkg), '.mim', 'configs', rel)


def build(name, variant, device):
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import hg_plugin  # noqa: F401
    from mmpose.registry import MODELS as REG
    init_default_scope('mmpose')
    cfg = Config.fromfile(config_path(MODELS[name][0]))
    cfg.model.backbone.pop('init_cfg', None)  # no download, random weights
    ours = cfg.model.backbone.type == 'StackedHourglass'
    if variant in ('with_cp', 'channels_last') and ours:
        cfg.model.backbone[variant] = True
    if variant == 'stagewise':
        cfg.model.type = 'StagewiseTopdownPoseEstimator'
    model = REG.build(cfg.model).to(device)
    if variant == 'channels_last' and not ours:
        model = model.to(memory_format=torch.channels_last)
    return cfg, model


def count_macs(model, size):
    """Multiply-accumulates of every conv / transposed conv / linear layer."""
    import torch
    from torch import nn
    total = []

    def hook(mod, inp, out):
        if isinstance(mod, nn.ConvTranspose2d):
            total.append(inp[0].numel() * mod.out_channels // mod.groups *
                         mod.kernel_size[0] * mod.kernel_size[1])
        elif isinstance(mod, nn.Conv2d):
            total.append(out.numel() * mod.in_channels // mod.groups *
                         mod.kernel_size[0] * mod.kernel_size[1])
        elif isinstance(mod, nn.Linear):
            total.append(out.numel() * mod.in_features)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size[1], size[0]), None, mode='tensor')
    for h in handles:
        h.remove()
    return sum(total)


def timed(fn, warmup, repeat, sync):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fake_batch(cfg, batch, device):
    import torch
    from mmengine.structures import InstanceData, PixelData
    from mmpose.structures import PoseDataSample
    w, h = cfg.codec['input_size']
    hw, hh = cfg.codec['heatmap_size']
    k = cfg.model.head.out_channels
    samples = []
    for _ in range(batch):
        s = PoseDataSample(metainfo=dict(flip_indices=list(range(k))))
        s.gt_fields = PixelData(heatmaps=torch.rand(k, hh, hw))
        s.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, k))
        samples.append(s)
    return dict(inputs=[torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
                        for _ in range(batch)], data_samples=samples)


def worker(job):
    """Measure one (model, variant); returns a dict of numbers."""
    import torch
    device = job['device']
    cuda = device == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(0)  # same weights and data for every variant
    base_rss = rss_kib()
    cfg, model = build(job['model'], job['variant'], device)
    size = cfg.codec['input_size']
    res = dict(model=job['model'], variant=job['variant'],
               study=job.get('study', 'main'),
               input=f'{size[1]}x{size[0]}',
               params_m=sum(p.numel() for p in model.parameters()) / 1e6)
    variant = job['variant']
    amp_dtype = {'amp-bf16': torch.bfloat16,
                 'amp-fp16': torch.float16}.get(variant)
    if job.get('macs', True):
        res['gmacs'] = count_macs(model, size) / 1e9
    if variant == 'compile':  # as tools/train.py and tools/test.py do
        from hg_plugin.engine import compile_network
        compile_network(model, True)
    if job['infer']:
        model.eval()
        net = (lambda x: model(x, None, mode='tensor'))
        fmt = (torch.channels_last if variant == 'channels_last' else
               torch.contiguous_format)

        def infer(b):
            x = torch.randn(b, 3, size[1], size[0], device=device).contiguous(
                memory_format=fmt)

            def run():
                with torch.inference_mode(), torch.autocast(
                        device, dtype=amp_dtype or torch.float32,
                        enabled=amp_dtype is not None):
                    net(x)
            return run

        res['latency_ms'] = 1e3 * timed(infer(1), job['warmup'] + 1,
                                        job['repeat'], sync)
        res['infer_img_s'] = job['batch'] / timed(
            infer(job['batch']), job['warmup'], job['repeat'], sync)
    if job['train']:
        from mmengine.optim import build_optim_wrapper
        model.train()
        optim = dict(cfg.optim_wrapper)
        if amp_dtype is not None:
            optim.update(type='AmpOptimWrapper', dtype=str(amp_dtype)[6:],
                         loss_scale='dynamic')
        wrapper = build_optim_wrapper(model, optim)
        torch.manual_seed(1)  # same batch whatever ran before
        data = fake_batch(cfg, job['train_batch'], device)
        step = lambda: model.train_step(data, wrapper)  # noqa: E731
        for _ in range(job['warmup']):  # grads and optimizer state exist now
            step()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        else:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')  # reset VmHWM to the current resident size
        t = timed(step, 0, job['repeat'], sync)
        res['train_img_s'] = job['train_batch'] / t
        res['train_batch'] = job['train_batch']
        res['peak_mem_mib'] = (torch.cuda.max_memory_allocated() / 2**20
                               if cuda else
                               (rss_kib('VmHWM') - base_rss) / 1024)
    return res


# ------------------------------------------------------------- the driver
def zoo_accuracy(config):
    """The zoo's published number for ``config``, from MMPose's metafile."""
    import glob

    import yaml
    path = config_path(config)
    for yml in glob.glob(osp.join(osp.dirname(path), '*.yml')):
        with open(yml) as f:
            for entry in yaml.safe_load(f).get('Models', []):
                if entry.get('Config', '').endswith(osp.basename(path)):
                    metrics = entry['Results'][0]['Metrics']
                    if 'Mean' in metrics:
                        return 'MPII PCKh', metrics['Mean'], osp.basename(yml)
                    return 'COCO AP', metrics['AP'], osp.basename(yml)
    return None


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
    jobs = [dict(common, model=m, variant='plain', infer=True, train=True)
            for m in args.models]
    if 'hg8' in args.models:
        for v in args.variants:
            if v == 'amp-fp16' and args.device == 'cpu':
                continue  # CPU autocast is bfloat16 only
            infer = v not in ('with_cp', 'stagewise')
            jobs.append(dict(common, model='hg8', variant=v, infer=infer,
                             train=True, macs=False))
        if args.memory_batch > 0:  # the memory study
            jobs += [dict(common, model='hg8', variant=v, infer=False,
                          train=True, macs=False, study='memory',
                          train_batch=args.memory_batch,
                          warmup=1, repeat=args.memory_repeat)
                     for v in ('plain', 'with_cp', 'stagewise')]
    return jobs


def fmt(v, digits=1):
    return '' if v is None else (f'{v:.{digits}f}' if isinstance(v, float)
                                 else str(v))


def ratio(v, ref):
    return '' if v is None or not ref else f'{v / ref:.2f}x'


def write_reports(results, args, accuracy):
    import csv
    os.makedirs(args.out_dir, exist_ok=True)
    keys = ['model', 'variant', 'study', 'input', 'params_m', 'gmacs', 'latency_ms',
            'infer_img_s', 'train_batch', 'train_img_s', 'peak_mem_mib',
            'accuracy_metric', 'accuracy', 'accuracy_source', 'error']
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
        w = csv.DictWriter(f, keys, extrasaction='ignore')
        w.writeheader()
        w.writerows(results)

    def find(model, variant, study='main'):
        return next((r for r in results if r['model'] == model and
                     r['variant'] == variant and
                     r.get('study', 'main') == study), {})

    ref = find('hg8', 'plain')
    lines = [f'Machine: {machine(args.device)}. Medians of {args.repeat} '
             f'runs after {args.warmup} warm-up; inference batch '
             f'{args.batch}, training batch {args.train_batch}; ratios are '
             'to hg8 (plain). Random weights, synthetic inputs.', '',
             '| model | input | params (M) | GMACs | latency b1 (ms) | '
             'infer img/s | train img/s | peak train mem (MiB) | accuracy |'
             ' vs hg8: MACs | latency | infer | train | mem |',
             '|' + '---|' * 15]
    for r in results:
        if r['variant'] != 'plain' or r.get('study') == 'memory' or \
                'error' in r:
            continue
        acc = (f"{r['accuracy']:.3f} {r['accuracy_metric']} "
               f"({r['accuracy_source']})" if r.get('accuracy') else '')
        lines.append(
            f"| {r['model']} | {r['input']} | {fmt(r['params_m'], 2)} | "
            f"{fmt(r.get('gmacs'), 2)} | {fmt(r.get('latency_ms'))} | "
            f"{fmt(r.get('infer_img_s'), 2)} | {fmt(r.get('train_img_s'), 2)}"
            f" | {fmt(r.get('peak_mem_mib'), 0)} | {acc} | "
            f"{ratio(r.get('gmacs'), ref.get('gmacs'))} | "
            f"{ratio(r.get('latency_ms'), ref.get('latency_ms'))} | "
            f"{ratio(r.get('infer_img_s'), ref.get('infer_img_s'))} | "
            f"{ratio(r.get('train_img_s'), ref.get('train_img_s'))} | "
            f"{ratio(r.get('peak_mem_mib'), ref.get('peak_mem_mib'))} |")
    lines += ['', f'hg8 speed options (training batch {args.train_batch}; '
              'ratios to plain hg8, >1 is faster / more memory):', '',
              '| option | latency b1 (ms) | infer img/s | train img/s | '
              'peak train mem (MiB) | latency | infer | train | mem |',
              '|' + '---|' * 9]
    for v in ('plain',) + VARIANTS:
        r = find('hg8', v)
        if not r:
            continue
        if 'error' in r:
            lines.append(f"| {v} | {r['error']} |" + ' |' * 7)
            continue
        lines.append(
            f"| {v} | {fmt(r.get('latency_ms'))} | "
            f"{fmt(r.get('infer_img_s'), 2)} | {fmt(r.get('train_img_s'), 2)}"
            f" | {fmt(r.get('peak_mem_mib'), 0)} | "
            f"{ratio(ref.get('latency_ms'), r.get('latency_ms'))} | "
            f"{ratio(r.get('infer_img_s'), ref.get('infer_img_s'))} | "
            f"{ratio(r.get('train_img_s'), ref.get('train_img_s'))} | "
            f"{ratio(r.get('peak_mem_mib'), ref.get('peak_mem_mib'))} |")
    mem_ref = find('hg8', 'plain', 'memory')
    if mem_ref:
        lines += ['', f'hg8 training at batch {args.memory_batch} (activation'
                  ' memory study):', '',
                  '| mode | train img/s | step time vs plain | peak mem (MiB) '
                  '| mem vs plain |', '|---|---|---|---|---|']
        for v in ('plain', 'with_cp', 'stagewise'):
            r = find('hg8', v, 'memory')
            if r and 'error' not in r:
                lines.append(
                    f"| {v} | {fmt(r['train_img_s'], 2)} | "
                    f"{ratio(mem_ref.get('train_img_s'), r['train_img_s'])} | "
                    f"{fmt(r['peak_mem_mib'], 0)} | "
                    f"{ratio(r['peak_mem_mib'], mem_ref.get('peak_mem_mib'))}"
                    ' |')
            elif r:
                lines.append(f"| {v} | {r['error']} | | | |")
    with open(osp.join(args.out_dir, 'benchmark.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    plot(results, args)
    return '\n'.join(lines)


def plot(results, args):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    pts = [r for r in results if r['variant'] == 'plain' and
           r.get('accuracy_metric') == 'MPII PCKh' and 'error' not in r and
           r.get('study') == 'main']
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, label in ((axes[0], 'gmacs', 'GMACs (input 256x256)'),
                           (axes[1], 'infer_img_s',
                            f'inference img/s ({args.device}, batch '
                            f'{args.batch})')):
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


def machine(device):
    if device == 'cuda':
        import torch
        return f'{torch.cuda.get_device_name(0)}, torch {torch.__version__}'
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = re.search(r'model name\s*:\s*(.*)', f.read()).group(1)
    except (OSError, AttributeError):
        pass
    import torch
    return (f'{cpu}, {os.cpu_count()} cores, torch {torch.__version__} '
            f'({torch.get_num_threads()} threads)')


def profile(args):
    """Profile hg8 training steps on this device; write profile.md."""
    from mmengine.optim import build_optim_wrapper
    from torch.profiler import ProfilerActivity, profile as tprofile
    cfg, model = build('hg8', 'plain', args.device)
    model.train()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = fake_batch(cfg, args.train_batch, args.device)
    model.train_step(data, wrapper)  # warm-up
    acts = [ProfilerActivity.CPU] + (
        [ProfilerActivity.CUDA] if args.device == 'cuda' else [])
    with tprofile(activities=acts) as prof:
        for _ in range(2):
            model.train_step(data, wrapper)
    events = prof.key_averages()
    attr = ('self_device_time_total' if args.device == 'cuda' else
            'self_cpu_time_total')
    total = sum(getattr(e, attr) for e in events)
    rows = sorted(events, key=lambda e: getattr(e, attr), reverse=True)[:15]
    lines = [f'hg8 training step, batch {args.train_batch}, '
             f'{machine(args.device)}; self time of the top operators over '
             '2 steps:', '', '| operator | calls | self time (ms) | share |',
             '|---|---|---|---|']
    for e in rows:
        t = getattr(e, attr)
        lines.append(f'| `{e.key}` | {e.count} | {t / 1e3:.0f} | '
                     f'{100 * t / total:.1f}% |')
    with open(osp.join(args.out_dir, 'profile.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--models', nargs='+', default=list(MODELS),
                   choices=list(MODELS))
    p.add_argument('--variants', nargs='*', default=list(VARIANTS),
                   choices=list(VARIANTS),
                   help='hg8 speed options to measure (none: --variants)')
    p.add_argument('--batch', type=int, default=4,
                   help='inference throughput batch')
    p.add_argument('--train-batch', type=int, default=4)
    p.add_argument('--memory-batch', type=int, default=16,
                   help='batch of the checkpointing memory study (0: skip)')
    p.add_argument('--memory-repeat', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeat', type=int, default=3)
    p.add_argument('--timeout', type=int, default=1200,
                   help='seconds per measurement subprocess')
    p.add_argument('--out-dir', default=osp.join(REPO, 'benchmarks'))
    p.add_argument('--append', action='store_true',
                   help='add to the results already in --out-dir')
    p.add_argument('--profile', action='store_true',
                   help='only profile hg8 training steps (profile.md)')
    p.add_argument('--worker', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print('RESULT ' + json.dumps(worker(json.loads(args.worker))))
        return
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            sys.exit('error: --device cuda but CUDA is not available')
    os.makedirs(args.out_dir, exist_ok=True)
    if args.profile:
        return profile(args)
    from tqdm import tqdm
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
                            f"b{job['train_batch']}")
        results.append(run_job(job, args.timeout))
        write_reports(results, args, accuracy)  # partial results survive
    print(write_reports(results, args, accuracy))


if __name__ == '__main__':
    sys.path.insert(0, REPO)
    main()
