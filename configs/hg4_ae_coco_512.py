# Associative Embedding (Newell, Huang, Deng, NeurIPS 2017): bottom-up
# multi-person pose with a 4-stack hourglass at 512x512. Every stack predicts
# 17 heatmaps and 17 tag maps at 128x128 (all 34 maps re-injected into the
# next stack) and every stack is supervised with MMPose's heatmap MSE and
# AE pull/push loss; people are grouped by their tags (MMPose's
# AssociativeEmbedding codec). MMPose 1.x ships AE only with HRNet: data,
# schedule (Adam 1.5e-3, 300 epochs, steps at 200/260), decoding and
# evaluation are its AE config's, inherited; the network is the paper's.
_base_ = [
    'mmpose::body_2d_keypoint/associative_embedding/coco/'
    'ae_hrnet-w32_8xb24-300e_coco-512x512.py', './_base_/hg_run_guards.py'
]
from hg_plugin.pipelines import bottomup_ae_pipeline  # noqa: E402

custom_hooks = [*_base_.custom_hooks, *_base_.hg_run_guards]  # noqa: F821

num_stacks = 4
num_keypoints = 17
codec = _base_.codec  # noqa: F821  (512 input, 128x128 maps, sigma 2)

# validate with each checkpoint (every 50 epochs) instead of every 10: a
# bottom-up COCO evaluation takes long
train_cfg = dict(val_interval=50)

model = dict(
    backbone=dict(
        _delete_=True,
        type='StackedHourglass',
        num_stacks=num_stacks,
        num_keypoints=num_keypoints * 2,  # heatmaps + one tag per keypoint
        feat_channels=256,
        depth=4),
    head=dict(
        _delete_=True,
        type='StackedAEHead',
        num_stacks=num_stacks,
        num_keypoints=num_keypoints,
        tag_dim=1,
        tag_per_keypoint=True,
        # every channel learns, empty ones too; crowds and unlabelled people
        # are masked out (BottomupGetHeatmapMask), as in the AE paper
        keypoint_loss=dict(type='KeypointMSELoss', use_target_weight=False),
        tag_loss=dict(type='AssociativeEmbeddingLoss', loss_weight=0.001),
        # heatmaps are resized to the input size before decoding
        decoder=dict(codec, heatmap_size=codec['input_size'])))

# MMPose's AE config ships `train_pipeline = []`: MMPose's bottom-up
# augmentation (random scale/rotation/shift of the whole image, flip), with
# the packing the tag loss needs (PackAEInputs); draws depend only on (seed,
# epoch, sample), so `--resume` is exact
train_dataloader = dict(
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(pipeline=bottomup_ae_pipeline(codec)))
# its validation pipeline, with image loading that refuses truncated files
val_dataloader = dict(dataset=dict(pipeline=[
    dict(type='VerifiedLoadImage'), *_base_.val_pipeline[1:]]))  # noqa: F821
test_dataloader = val_dataloader
