# Stacked Hourglass (Newell et al. 2016), 8 stacks, COCO keypoints, top-down,
# 256x256. Everything about COCO - dataset, augmentation (flip, half body,
# shift/scale/rotate), person boxes from a detector at test time (bbox_file),
# CocoMetric - is MMPose's own hourglass52 COCO config; the network, loss and
# optimizer are the paper's. The paper evaluates on MPII/FLIC only, so the
# COCO choices below are MMPose's, which also makes results comparable with
# td-hm_hourglass52 (72.6 AP at 256x256).
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hourglass52_8xb32-210e_coco-256x256.py', './_base_/hg_run_guards.py'
]
from hg_plugin.model_configs import hourglass_model  # noqa: E402
from hg_plugin.pipelines import topdown_pipelines  # noqa: E402

custom_hooks = [*_base_.custom_hooks, *_base_.hg_run_guards]  # noqa: F821

num_stacks = 8
num_keypoints = 17

# RMSprop 2.5e-4 (paper) instead of the base config's Adam 5e-4; the base's
# 500-iteration warm-up and 210-epoch step schedule are kept.
optim_wrapper = dict(optimizer=dict(_delete_=True, type='RMSprop', lr=2.5e-4))

# sigma=2 on 64x64 heatmaps: MMPose's COCO setting (the paper's sigma=1 was
# for MPII).
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64),
             sigma=2)

# the paper's network (f=256 and depth 4 are the backbone's defaults) and
# its stacked head (MultiStackHeatmapLoss, as hg8_mpii_256.py)
model = hourglass_model(num_stacks, num_keypoints, decoder=codec)

# the base config's augmentation (flip, half body, shift/scale/rotate), with
# draws that depend only on (seed, epoch, sample) so `--resume` is exact, and
# image loading that refuses truncated files
train_pipeline, val_pipeline = topdown_pipelines(codec, augment='coco')
train_dataloader = dict(
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
