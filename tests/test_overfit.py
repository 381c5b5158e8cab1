"""A small stacked hourglass must fit the 5 real MPII samples: PCKh@0.5 >= 0.9
on those images within a bounded number of iterations, through MMPose's
dataset, pipeline, runner and MpiiPCKAccuracy."""
from mmengine.config import Config
from mmengine.runner import Runner

from tests.conftest import REPO, mpii_cfg_options

ITERATIONS = 250  # one batch of all 5 samples per iteration


def test_small_hourglass_overfits_five_real_mpii_samples(mpii_root, tmp_path):
    cfg = Config.fromfile(REPO / 'configs' / 'hg2_mpii_256.py')
    cfg.merge_from_dict(mpii_cfg_options(mpii_root))
    codec = dict(type='MSRAHeatmap', input_size=(128, 128),
                 heatmap_size=(32, 32), sigma=1)
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs')
    ]
    cfg.merge_from_dict({
        'work_dir': str(tmp_path),
        'model.backbone.feat_channels': 64,
        'model.head.decoder': codec,
        'model.test_cfg.flip_test': False,  # nothing flipped was fitted
        'optim_wrapper.optimizer.lr': 2.5e-3,
        'param_scheduler': [],
        # no validation inside the loop: evaluated once, below
        'train_cfg': dict(by_epoch=True, max_epochs=ITERATIONS,
                          val_begin=ITERATIONS + 1),
        'train_dataloader.batch_size': 5,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.pipeline': pipeline,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'val_dataloader.dataset.pipeline': pipeline[:3] + pipeline[4:],
        'default_hooks.checkpoint': None,
        'default_hooks.logger.interval': 50,
        'randomness': dict(seed=0),
    })
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert metrics['PCK'] >= 90.0, metrics
