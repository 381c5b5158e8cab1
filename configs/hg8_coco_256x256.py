# Stacked Hourglass (Newell et al. 2016), 8 stacks, COCO keypoints, top-down,
# 256x256. Everything about COCO - dataset, augmentation (flip, half body,
# shift/scale/rotate), person boxes from a detector at test time (bbox_file),
# CocoMetric - is MMPose's own hourglass52 COCO config; the network, loss and
# optimizer are the paper's. The paper evaluates on MPII/FLIC only, so the
# COCO choices below are MMPose's, which also makes results comparable with
# td-hm_hourglass52 (72.6 AP at 256x256).
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_hourglass52_8xb32-210e_coco-256x256.py'
]
custom_imports = dict(imports=['hg_plugin'], allow_failed_imports=False)
# hg_plugin's run guards (registered hooks, so MMPose's own tools run them
# too): check that backbone, head, codec and data agree; stop at the first
# NaN/Inf loss (naming iteration and stack) before the
# checkpoint hook could save diverged weights; before resuming, repair a
# last_checkpoint file that a kill left empty or dangling; refuse to
# overwrite an earlier run's checkpoints or to `--resume` from nothing;
# resume with the run's own seed (exact resume); write checkpoints
# that torch >= 2.6 loads weights-only with nothing allowlisted (MMPose's
# publish_model.py, plain torch.load)
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='ConfigCheckHook'),
    dict(type='StopOnNonFiniteLossHook'),
    dict(type='RepairLastCheckpointHook'),
    dict(type='WorkDirGuardHook'),
    dict(type='ExactResumeHook'),
    dict(type='WeightsOnlyCheckpointHook')
]

num_stacks = 8
num_keypoints = 17

# RMSprop 2.5e-4 (paper) instead of the base config's Adam 5e-4; the base's
# 500-iteration warm-up and 210-epoch step schedule are kept.
optim_wrapper = dict(optimizer=dict(_delete_=True, type='RMSprop', lr=2.5e-4))

# sigma=2 on 64x64 heatmaps: MMPose's COCO setting (the paper's sigma=1 was
# for MPII).
codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64),
             sigma=2)

model = dict(
    backbone=dict(
        _delete_=True,
        type='StackedHourglass',
        num_stacks=num_stacks,
        num_keypoints=num_keypoints,
        feat_channels=256,
        depth=4),
    head=dict(
        _delete_=True,
        type='StackedHeatmapHead',
        num_stacks=num_stacks,
        out_channels=num_keypoints,
        loss=dict(
            type='MultiStackHeatmapLoss',
            loss=dict(type='KeypointMSELoss', use_target_weight=True),
            stack_weights=[1.0] * num_stacks),
        decoder=codec))

# the base config's augmentation (flip, half body, shift/scale/rotate), with
# draws that depend only on (seed, epoch, sample) so `--resume` is exact, and
# image loading that refuses truncated files
train_pipeline = [
    dict(type='SeedAugmentation'),
    dict(type='VerifiedLoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
train_dataloader = dict(
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))
