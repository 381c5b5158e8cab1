"""Measurements, each in its own worker process (``benchmark.py --worker``):
one (model, variant) built from its config with random weights, timed for
batch-1 latency, inference and training throughput, peak memory; and the
data pipeline's samples/s."""
import copy
import os.path as osp
import re
import statistics
import tempfile
import time

import cv2
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import DATASETS
from mmpose.registry import MODELS as REGISTRY
from mmpose.structures import PoseDataSample
from torch.utils.flop_counter import FlopCounterMode

import hg_plugin  # noqa: F401  (registers the models)
from hg_plugin.engine import CapturedTrainStep, compile_network
from hg_plugin.models import fold_batchnorm

from .catalog import MODELS, REPO, config_path, settings


def rss_kib(field='VmRSS'):
    with open('/proc/self/status') as f:
        return int(re.search(rf'{field}:\s+(\d+)', f.read()).group(1))


def build(name, variant, device):

    init_default_scope('mmpose')
    cfg = Config.fromfile(config_path(MODELS[name][0]))
    cfg.model.backbone.pop('init_cfg', None)  # no download, random weights
    ours = cfg.model.backbone.type == 'StackedHourglass'
    s = settings(variant, device)
    if ours:
        cfg.model.backbone.update(s.get('ours', {}))
    if s.get('stagewise'):
        cfg.model.type = 'StagewiseTopdownPoseEstimator'
    model = REGISTRY.build(cfg.model).to(device)
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

    import onnxruntime as ort  # here: the optional [onnx] extra
    from export_onnx import HeatmapNet  # tools/, beside this package
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

    size = cfg.codec['input_size']
    model.eval()
    if s.get('fold_bn'):
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
    cuda = device == 'cuda'
    model.train()
    optim = dict(cfg.optim_wrapper)
    if amp_dtype is not None:
        optim.update(type='DeviceAmpOptimWrapper', dtype=str(amp_dtype)[6:],
                     loss_scale='dynamic')
    wrapper = build_optim_wrapper(model, optim)
    torch.manual_seed(1)  # same batch whatever ran before
    data = fake_batch(cfg, job['train_batch'], device)
    train_step = model.train_step
    if s.get('captured'):  # captured within the warm-up steps below
        train_step = CapturedTrainStep(model, wrapper,
                                       warmup=max(0, job['warmup'] - 1))
    step = lambda: train_step(data, wrapper)  # noqa: E731
    first = time.perf_counter()
    for i in range(job['warmup']):  # grads and optimizer state exist now
        step()
        if i == 0:  # torch.compile's compilation is in the first step
            sync()
            first = time.perf_counter() - first
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    else:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # reset VmHWM to the current resident size
    t = timed(step, 0, job['repeat'], sync)
    return dict(train_img_s=job['train_batch'] / t,
                train_batch=job['train_batch'],
                first_step_s=first if job['warmup'] else None,
                peak_mem_mib=(torch.cuda.max_memory_allocated() / 2**20
                              if cuda else
                              (rss_kib('VmHWM') - job['_base_rss']) / 1024))


def worker(job):
    """Measure one (model, variant); returns a dict of numbers."""
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
        compile_network(model, True)
    # as MMEngine's env_cfg.cudnn_benchmark (the fast preset on CUDA)
    torch.backends.cudnn.benchmark = bool(s.get('cudnn_benchmark'))
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

    init_default_scope('mmpose')
    cfg = Config.fromfile(config_path(MODELS['hg8'][0]))
    root = osp.join(REPO, 'tests', 'data', 'mpii')
    dataset = DATASETS.build(dict(
        type='MpiiDataset', data_root=root, data_mode='topdown',
        ann_file='test_mpii.json', data_prefix=dict(img=''),
        pipeline=cfg.train_pipeline))
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
