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
# Variants: the config as shipped ('plain'), the one-flag preset ('fast',
# hg_plugin.presets for the device) and channels-last + AMP ('cl-amp') for
# every model, so comparisons are at equal settings; for hg8 also each
# option on its own. Keys: ours = StackedHourglass arguments; amp = autocast
# dtype ('auto': the device's); nhwc = feed an NHWC batch permuted to NCHW
# (as the reference code feeds its network); fold_bn / onnx / cuda_graph
# are inference-only.
EVERY_MODEL = ('plain', 'fast', 'cl-amp')
VARIANTS = {
    'plain': {},
    'fast': dict(preset='fast'),
    'cl-amp': dict(channels_last=True, amp='auto'),
    'nchw': dict(ours=dict(channels_last=False, merge='sum')),
    'reference-layout': dict(ours=dict(channels_last=False, merge='sum'),
                             nhwc=True),
    'merge-sum': dict(ours=dict(merge='sum')),
    'amp-bf16': dict(amp='bfloat16'),
    'amp-fp16': dict(amp='float16', cuda_only=True),
    'compile': dict(compile=True),
    'compile-amp': dict(compile=True, amp='auto'),
    'fold-bn': dict(fold_bn=True, train=False),
    'fold-bn-amp': dict(fold_bn=True, amp='auto', train=False),
    'onnxruntime': dict(onnx=True, train=False),
    'cuda-graph': dict(amp='auto', cuda_graph=True, train=False,
                       cuda_only=True),
    'with_cp': dict(ours=dict(with_cp=True), infer=False),
    'stagewise': dict(stagewise=True, infer=False),
}
HG8_VARIANTS = [v for v in VARIANTS if v not in EVERY_MODEL]


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


def settings(variant, device):
    """The variant's settings, with 'fast' and amp='auto' resolved."""
    from hg_plugin.engine import amp_dtype_for
    from hg_plugin.presets import fast_settings
    s = dict(VARIANTS[variant])
    if s.pop('preset', None):
        fast = fast_settings(device)
        s.update(channels_last=fast['channels_last'], amp=fast['amp'],
                 compile=fast['compile'])
    if s.get('amp') == 'auto':
        s['amp'] = amp_dtype_for(device)
    return s


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
    s = settings(variant, device)
    if ours:
        cfg.model.backbone.update(s.get('ours', {}))
    if s.get('stagewise'):
        cfg.model.type = 'StagewiseTopdownPoseEstimator'
    model = REG.build(cfg.model).to(device)
    if s.get('channels_last'):  # what ChannelsLastHook does; ours: default
        model = model.to(memory_format=torch.channels_last)
    if s.get('nhwc'):  # the reference code's input: NHWC batch, permuted
        model.backbone.register_forward_pre_hook(
            lambda mod, args: (args[0].permute(0, 2, 3, 1).contiguous()
                               .permute(0, 3, 1, 2), ))
    return cfg, model


def count_macs(model, size):
    """Multiply-accumulates of the forward at batch 1, counted at the
    operator level (convolutions, matrix products) by torch's FLOP counter:
    half its FLOPs."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, size[1], size[0],
                          device=next(model.parameters()).device),
              None, mode='tensor')
    return counter.get_total_flops() // 2


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


def onnx_runner(model, x):
    """Export backbone + head (eval, BN folded by the exporter) and return
    an onnxruntime session's run for ``x``'s shape."""
    import tempfile

    import onnxruntime as ort
    import torch
    sys.path.insert(0, osp.join(REPO, 'tools'))
    from export_onnx import HeatmapNet
    path = osp.join(tempfile.mkdtemp(), 'model.onnx')
    net = HeatmapNet(model).eval()
    torch.onnx.export(net, (x.contiguous(), ), path, input_names=['input'],
                      dynamic_axes={'input': {0: 'batch'}}, opset_version=17,
                      dynamo=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(path, opts,
                                   providers=['CPUExecutionProvider'])
    return lambda feed: session.run(None, {'input': feed})


def cuda_graph_runner(net, x, amp_dtype):
    """Capture one inference forward on the static input ``x``; replay."""
    import torch
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.inference_mode(), torch.autocast(
            'cuda', dtype=amp_dtype or torch.float32,
            enabled=amp_dtype is not None):
        for _ in range(3):
            net(x)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.inference_mode(), torch.autocast(
            'cuda', dtype=amp_dtype or torch.float32,
            enabled=amp_dtype is not None):
        net(x)
    return graph.replay


def measure_inference(job, s, cfg, model, device, sync, amp_dtype):
    import copy

    import torch
    size = cfg.codec['input_size']
    model.eval()
    if s.get('fold_bn'):
        from hg_plugin.models.utils import fold_batchnorm
        model = copy.deepcopy(model)
        fold_batchnorm(model.backbone)
        fold_batchnorm(model.head)
    net = (lambda x: model(x, None, mode='tensor'))
    fmt = (torch.channels_last if s.get('channels_last') else
           torch.contiguous_format)
    res = {}
    for key, b in (('latency_ms', 1), ('infer_img_s', job['batch'])):
        x = torch.randn(b, 3, size[1], size[0], device=device).contiguous(
            memory_format=fmt)
        if s.get('onnx'):
            feed = x.numpy()
            run = (lambda f, r=onnx_runner(model, x): r(f))
            fn = (lambda run=run, feed=feed: run(feed))
        elif s.get('cuda_graph'):
            fn = cuda_graph_runner(net, x, amp_dtype)
        else:
            def fn(x=x):
                with torch.inference_mode(), torch.autocast(
                        device, dtype=amp_dtype or torch.float32,
                        enabled=amp_dtype is not None):
                    net(x)
        t = timed(fn, job['warmup'] + 1, job['repeat'], sync)
        res[key] = 1e3 * t if b == 1 else b / t
    return res


def measure_training(job, s, cfg, model, device, sync, amp_dtype):
    import torch
    from mmengine.optim import build_optim_wrapper
    cuda = device == 'cuda'
    model.train()
    optim = dict(cfg.optim_wrapper)
    if amp_dtype is not None:
        optim.update(type='DeviceAmpOptimWrapper', dtype=str(amp_dtype)[6:],
                     loss_scale='dynamic')
    wrapper = build_optim_wrapper(model, optim)
    torch.manual_seed(1)  # same batch whatever ran before
    data = fake_batch(cfg, job['train_batch'], device)
    step = lambda: model.train_step(data, wrapper)  # noqa: E731
    for _ in range(job['warmup']):  # grads and optimizer state exist now
        step()
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    else:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # reset VmHWM to the current resident size
    t = timed(step, 0, job['repeat'], sync)
    return dict(train_img_s=job['train_batch'] / t,
                train_batch=job['train_batch'],
                peak_mem_mib=(torch.cuda.max_memory_allocated() / 2**20
                              if cuda else
                              (rss_kib('VmHWM') - job['_base_rss']) / 1024))


def worker(job):
    """Measure one (model, variant); returns a dict of numbers."""
    import torch
    device = job['device']
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    torch.manual_seed(0)  # same weights and data for every variant
    job['_base_rss'] = rss_kib()
    s = settings(job['variant'], device)
    cfg, model = build(job['model'], job['variant'], device)
    size = cfg.codec['input_size']
    res = dict(model=job['model'], variant=job['variant'],
               study=job.get('study', 'main'),
               input=f'{size[1]}x{size[0]}',
               params_m=sum(p.numel() for p in model.parameters()) / 1e6,
               settings=s)
    amp_dtype = getattr(torch, s['amp']) if s.get('amp') else None
    if job.get('macs', True):
        res['gmacs'] = count_macs(model, size) / 1e9
    if s.get('compile'):  # as CompileNetworkHook does
        from hg_plugin.engine import compile_network
        compile_network(model, True)
    if job['infer'] and s.get('infer', True):
        res.update(measure_inference(job, s, cfg, model, device, sync,
                                     amp_dtype))
    if job['train'] and s.get('train', True):
        res.update(measure_training(job, s, cfg, model, device, sync,
                                    amp_dtype))
    return res


def data_worker(job):
    """MMPose's top-down training pipeline of the MPII config (load +
    flip/rotate/scale + affine + target + pack) on the real samples in
    tests/data/mpii, in this one process: samples/s per DataLoader
    worker."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import hg_plugin  # noqa: F401
    from mmpose.registry import DATASETS
    init_default_scope('mmpose')
    cfg = Config.fromfile(config_path(MODELS['hg8'][0]))
    root = osp.join(REPO, 'tests', 'data', 'mpii')
    dataset = DATASETS.build(dict(
        type='MpiiDataset', data_root=root, data_mode='topdown',
        ann_file='test_mpii.json', data_prefix=dict(img=''),
        pipeline=cfg.train_pipeline))
    import cv2
    import torch
    torch.set_num_threads(1)  # as in a DataLoader worker (MMEngine sets
    cv2.setNumThreads(0)      # OMP_NUM_THREADS=1 and cv2 threads 0 there)
    n = job.get('samples', 200)
    for i in range(10):
        dataset[i % len(dataset)]
    start = time.perf_counter()
    for i in range(n):
        dataset[i % len(dataset)]
    rate = n / (time.perf_counter() - start)
    return dict(model='data', variant='train pipeline', study='data',
                samples_s=rate, records=len(dataset), samples=n)


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
    cuda = args.device == 'cuda'
    jobs = []
    for m in args.models:
        for v in args.model_variants:
            jobs.append(dict(common, model=m, variant=v, infer=True,
                             train=True, macs=v == 'plain'))
    hg = args.variants_model
    if hg in args.models:
        for v in args.variants:
            if VARIANTS[v].get('cuda_only') and not cuda:
                continue
            jobs.append(dict(common, model=hg, variant=v, infer=True,
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


def fmt(v, digits=1):
    return '' if v is None else (f'{v:.{digits}f}' if isinstance(v, float)
                                 else str(v))


def ratio(v, ref):
    return '' if v is None or not ref else f'{v / ref:.2f}x'


def write_reports(results, args, accuracy):
    import csv
    os.makedirs(args.out_dir, exist_ok=True)
    keys = ['model', 'variant', 'study', 'input', 'params_m', 'gmacs',
            'latency_ms', 'infer_img_s', 'train_batch', 'train_img_s',
            'peak_mem_mib', 'samples_s', 'accuracy_metric', 'accuracy',
            'accuracy_source', 'settings', 'error']
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
                     r.get('study', 'main') == study and 'error' not in r),
                    {})

    def errors(model, variant, study='main'):
        return next((r['error'] for r in results if r['model'] == model and
                     r['variant'] == variant and 'error' in r and
                     r.get('study', 'main') == study), '')

    def settings_text(v):
        st = next((r['settings'] for r in results if r['variant'] == v and
                   'settings' in r), None)
        if st is None:
            return ''
        st = {**{k: v for k, v in st.items() if k != 'ours'},
              **st.get('ours', {})}
        on = [k if v is True else f'{k}={v}' for k, v in st.items()
              if v not in (None, {}) and k not in ('train', 'infer',
                                                   'cuda_only')]
        return ', '.join(on) or 'as configured'

    shown = [v for v in EVERY_MODEL if any(r['variant'] == v for r in results)]
    lines = [f'Machine: {machine(args.device)}. Medians of {args.repeat} '
             f'runs after {args.warmup} warm-up; inference batch '
             f'{args.batch}, training batch {args.train_batch} (forward, '
             'loss, backward, optimizer step of the config). Random weights,'
             ' synthetic inputs; each row in its own process.', '']
    for v in shown:
        lines.append(f'- **{v}**: {settings_text(v)}')
    head = '| model | params (M) | GMACs | accuracy |'
    rule = '|---|---|---|---|'
    for v in shown:
        head += (f' {v}: latency b1 (ms) | {v}: train img/s | {v}: vs hg8 '
                 'latency | train |')
        rule += '---|---|---|---|'
    lines += ['', 'Every model with the same settings (ratios to hg8 with '
              'the same settings; latency <1 and train >1: faster than hg8):',
              '', head, rule]
    for m in [m for m in MODELS if any(r['model'] == m for r in results)]:
        plain = find(m, 'plain')
        acc = (f"{plain['accuracy']:.3f} {plain['accuracy_metric']} "
               f"({plain['accuracy_source']})" if plain.get('accuracy')
               else '')
        row = (f"| {m} | {fmt(plain.get('params_m'), 2)} | "
               f"{fmt(plain.get('gmacs'), 2)} | {acc} |")
        for v in shown:
            r, ref = find(m, v), find('hg8', v)
            if not r:
                row += f' {errors(m, v)[:60]} | | | |'
                continue
            row += (f" {fmt(r.get('latency_ms'))} | "
                    f"{fmt(r.get('train_img_s'), 2)} | "
                    f"{ratio(r.get('latency_ms'), ref.get('latency_ms'))} | "
                    f"{ratio(r.get('train_img_s'), ref.get('train_img_s'))} |")
        lines.append(row)
    hg = args.variants_model
    ref = find(hg, 'plain')
    lines += ['', f'{hg} options (ratios to plain {hg} = the shipped config; '
              '>1 is faster / more memory):', '',
              '| option | settings | latency b1 (ms) | infer img/s | '
              'train img/s | peak train mem (MiB) | latency | infer | train '
              '| mem |', '|' + '---|' * 10]
    for v in [*EVERY_MODEL, *HG8_VARIANTS]:
        r = find(hg, v)
        if not r:
            if errors(hg, v):
                lines.append(f"| {v} | {errors(hg, v)[:120]} |" + ' |' * 8)
            continue
        lines.append(
            f"| {v} | {settings_text(v)} | {fmt(r.get('latency_ms'))} | "
            f"{fmt(r.get('infer_img_s'), 2)} | {fmt(r.get('train_img_s'), 2)}"
            f" | {fmt(r.get('peak_mem_mib'), 0)} | "
            f"{ratio(ref.get('latency_ms'), r.get('latency_ms'))} | "
            f"{ratio(r.get('infer_img_s'), ref.get('infer_img_s'))} | "
            f"{ratio(r.get('train_img_s'), ref.get('train_img_s'))} | "
            f"{ratio(r.get('peak_mem_mib'), ref.get('peak_mem_mib'))} |")
    pv, hg52 = find(hg, 'reference-layout'), find('hourglass52-mpii',
                                                      'cl-amp')
    ours_fast = find(hg, 'cl-amp')
    summary = []
    if pv and ref:
        summary.append(
            f"- {hg} as shipped vs the reference layout fed as its code feeds"
            " it (NHWC permuted): training throughput "
            f"{ratio(ref.get('train_img_s'), pv.get('train_img_s'))}, "
            "batch-1 speed "
            f"{ratio(pv.get('latency_ms'), ref.get('latency_ms'))} of the "
            "reference's (>1: ours faster).")
    if hg52 and ours_fast:
        summary.append(
            f"- Parity with MMPose's HG52 at channels-last + AMP: {hg} train "
            f"step {ratio(hg52.get('train_img_s'), ours_fast.get('train_img_s'))}"
            " of HG52's, batch-1 latency "
            f"{ratio(ours_fast.get('latency_ms'), hg52.get('latency_ms'))} of"
            " HG52's (target: <= 1.00x).")
    data = find('data', 'train pipeline', 'data')
    if data:
        need = find(hg, 'fast') or ref
        workers = (need.get('train_img_s', 0) / data['samples_s'])
        summary.append(
            f"- MMPose's MPII training pipeline (load, flip, rotate/scale, "
            f"affine, 64x64 target, pack): {data['samples_s']:.0f} samples/s"
            f" per worker process (one thread); {hg} `fast` training here "
            f"consumes {need.get('train_img_s', 0):.1f} img/s, i.e. "
            f"{workers:.2f} workers' worth.")
    if summary:
        lines += [''] + summary
    mem_ref = find(hg, 'plain', 'memory')
    if mem_ref:
        lines += ['', f'{hg} training at batch {args.memory_batch} (activation'
                  ' memory study):', '',
                  '| mode | train img/s | step time vs plain | peak mem (MiB) '
                  '| mem vs plain |', '|---|---|---|---|---|']
        for v in ('plain', 'with_cp', 'stagewise'):
            r = find(hg, v, 'memory')
            if r:
                lines.append(
                    f"| {v} | {fmt(r['train_img_s'], 2)} | "
                    f"{ratio(mem_ref.get('train_img_s'), r['train_img_s'])} | "
                    f"{fmt(r['peak_mem_mib'], 0)} | "
                    f"{ratio(r['peak_mem_mib'], mem_ref.get('peak_mem_mib'))}"
                    ' |')
            elif errors(hg, v, 'memory'):
                lines.append(f"| {v} | {errors(hg, v, 'memory')} | | | |")
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


CATEGORIES = (  # operator name pieces -> where the time goes
    ('convolution', ('conv', 'mkldnn_convolution', 'cudnn')),
    ('batch norm', ('batch_norm',)),
    ('elementwise (ReLU, add, copy, casts)', (
        'relu', 'threshold', 'clamp', 'add', 'copy', 'to_copy', 'mul',
        'fill', 'zero')),
    ('pool / upsample', ('pool', 'upsample')),
    ('optimizer', ('Optimizer', 'sqrt', 'addcmul', 'div', 'foreach')),
)


def category(name):
    for label, pieces in CATEGORIES:
        if any(p in name for p in pieces):
            return label
    return 'other'


def profile(args):
    """Profile training steps of hg8 and MMPose's HG52 with the same
    settings (``--profile-variant``); write profile.md: time per operator
    class (why one is slower at equal MACs) and the top operators."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from torch.profiler import ProfilerActivity, profile as tprofile
    variant = args.profile_variant
    acts = [ProfilerActivity.CPU] + (
        [ProfilerActivity.CUDA] if args.device == 'cuda' else [])
    attr = ('self_device_time_total' if args.device == 'cuda' else
            'self_cpu_time_total')
    tables, tops = {}, {}
    for name in ('hg8', 'hourglass52-mpii'):
        torch.manual_seed(0)
        cfg, model = build(name, variant, args.device)
        s = settings(variant, args.device)
        model.train()
        optim = dict(cfg.optim_wrapper)
        if s.get('amp'):
            optim.update(type='DeviceAmpOptimWrapper', dtype=s['amp'])
        wrapper = build_optim_wrapper(model, optim)
        data = fake_batch(cfg, args.train_batch, args.device)
        model.train_step(data, wrapper)  # warm-up
        with tprofile(activities=acts) as prof:
            for _ in range(2):
                model.train_step(data, wrapper)
        events = [e for e in prof.key_averages()
                  if not e.key.startswith('autograd::')]
        per = {}
        for e in events:
            c = category(e.key)
            per[c] = per.get(c, 0) + getattr(e, attr)
        tables[name] = per
        tops[name] = sorted(events, key=lambda e: getattr(e, attr),
                            reverse=True)[:12]
    lines = [f'Training steps (batch {args.train_batch}, 2 steps after a '
             f'warm-up) with the same settings ({variant}: '
             f'{settings(variant, args.device)}), {machine(args.device)}. '
             'Self time by operator class, ms per step:', '',
             '| class | hg8 | HG52 | hg8 / HG52 |', '|---|---|---|---|']
    labels = [label for label, _ in CATEGORIES] + ['other']
    for label in labels + ['total']:
        a, b = ((sum(tables[n].values()) if label == 'total' else
                 tables[n].get(label, 0)) / 2e3
                for n in ('hg8', 'hourglass52-mpii'))
        lines.append(f'| {label} | {a:.0f} | {b:.0f} | '
                     f'{a / b if b else float("nan"):.2f}x |')
    for name in tops:
        total = sum(tables[name].values())
        lines += ['', f'Top operators, {name}:', '',
                  '| operator | calls | self time (ms) | share |',
                  '|---|---|---|---|']
        for e in tops[name]:
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
                            f"b{job.get('train_batch', '')}")
        new = run_job(job, args.timeout)
        key = (new['model'], new['variant'], new.get('study', 'main'))
        results = [r for r in results if (r['model'], r['variant'], r.get(
            'study', 'main')) != key] + [new]  # a re-measurement replaces
        write_reports(results, args, accuracy)  # partial results survive
    print(write_reports(results, args, accuracy))


if __name__ == '__main__':
    sys.path.insert(0, REPO)
    main()
