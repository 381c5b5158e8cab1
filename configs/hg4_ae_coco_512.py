# Associative Embedding (Newell, Huang, Deng, NeurIPS 2017): bottom-up
# multi-person pose with a 4-stack hourglass at 512x512. Every stack predicts
# 17 heatmaps and 17 tag maps at 128x128 (all 34 maps re-injected into the
# next stack) and every stack is supervised with MMPose's heatmap MSE and
# AE pull/push loss; people are grouped by their tags (MMPose's
# AssociativeEmbedding codec). MMPose 1.x ships AE only with HRNet; data,
# schedule, decoding and evaluation here are MMPose's AE settings
# (ae_hrnet-w32_8xb24-300e_coco-512x512.py), the network is the paper's.
_base_ = ['mmpose::_base_/default_runtime.py', './_base_/hg_run_guards.py']
from hg_plugin.pipelines import bottomup_ae_pipeline  # noqa: E402

custom_hooks = [*_base_.custom_hooks, *_base_.hg_run_guards]  # noqa: F821

num_stacks = 4
num_keypoints = 17

# MMPose's AE schedule: Adam 1.5e-3, 300 epochs, steps at 200 and 260 (the
# AE paper trains its hourglass with its own, longer schedule)
train_cfg = dict(max_epochs=300, val_interval=50)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1.5e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001,
         by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=300, milestones=[200, 260],
         gamma=0.1, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=192)
default_hooks = dict(
    checkpoint=dict(save_best='coco/AP', rule='greater', interval=50))

codec = dict(
    type='AssociativeEmbedding',
    input_size=(512, 512),
    heatmap_size=(128, 128),
    sigma=2,
    decode_topk=30,
    decode_center_shift=0.5,
    decode_keypoint_order=[
        0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16
    ],
    decode_max_instances=30)

model = dict(
    type='BottomupPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='StackedHourglass',
        num_stacks=num_stacks,
        num_keypoints=num_keypoints * 2,  # heatmaps + one tag per keypoint
        feat_channels=256,
        depth=4),
    head=dict(
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
        decoder=dict(codec, heatmap_size=codec['input_size'])),
    test_cfg=dict(
        multiscale_test=False,
        flip_test=True,
        shift_heatmap=False,
        restore_heatmap_size=True,
        align_corners=False))

dataset_type = 'CocoDataset'
data_mode = 'bottomup'
data_root = 'data/coco/'

# MMPose's bottom-up augmentation (random scale/rotation/shift of the whole
# image, flip); the sizes are multiples of 64, as depth 4 needs
train_pipeline = bottomup_ae_pipeline(codec)
val_pipeline = [
    dict(type='VerifiedLoadImage'),
    dict(type='BottomupResize', input_size=codec['input_size'],
         size_factor=64, resize_mode='expand'),
    dict(type='PackPoseInputs',
         meta_keys=('id', 'img_id', 'img_path', 'crowd_index', 'ori_shape',
                    'img_shape', 'input_size', 'input_center', 'input_scale',
                    'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
                    'skeleton_links'))
]

train_dataloader = dict(
    batch_size=24,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/person_keypoints_val2017.json',
    nms_mode='none',
    score_mode='bbox')
test_evaluator = val_evaluator
