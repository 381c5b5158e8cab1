# `make demo`: a small 2-stack hourglass trained on the project's procedurally
# generated MPII-format figures (hg_plugin/synthetic/), sized
# to learn on 2 CPU cores in minutes. Same network, head, loss, augmentation
# and evaluation as hg8_mpii_256.py; the departures are all about CPU time.
_base_ = ['./hg8_mpii_256.py']
from hg_plugin.pipelines import topdown_pipelines  # noqa: E402

num_stacks = 2
data_root = 'data/synthetic_mpii/'

# 128x128 input / 32x32 heatmaps instead of 256/64: 4x less compute. sigma=2
# (MMPose's value) instead of 1: wider targets give a stronger early signal,
# which a run of minutes needs (sigma=1 plateaus for its first epochs).
codec = dict(type='MSRAHeatmap', input_size=(128, 128), heatmap_size=(32, 32),
             sigma=2)

model = dict(
    # feat_channels 64 instead of 256 (the stem scales with it: 16-32-32-64)
    backbone=dict(num_stacks=num_stacks, feat_channels=64),
    head=dict(num_stacks=num_stacks, decoder=codec))

# a short run: 10x the paper's lr with cosine decay to 0 instead of a
# 210-epoch step schedule
max_epochs = 18
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(type='RMSprop', lr=2.5e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='CosineAnnealingLR', begin=0, end=max_epochs, T_max=max_epochs,
         by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))

train_pipeline, val_pipeline = topdown_pipelines(codec, augment='paper')
# 2 CPU cores: one loader worker keeps up with the small model
train_dataloader = dict(
    batch_size=16, num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=1,
    dataset=dict(
        data_root=data_root,
        headbox_file=f'{data_root}annotations/mpii_gt_val.mat',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
