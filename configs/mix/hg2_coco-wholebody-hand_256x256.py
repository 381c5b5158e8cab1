# Mixing: MMPose's COCO-WholeBody-Hand config (21 hand keypoints; its model
# zoo entry is hourglass52) with Newell's 2-stack hourglass instead. Dataset,
# pipeline, codec (256x256, 64x64) and metrics (PCK, AUC, EPE) are MMPose's.
_base_ = [
    'mmpose::hand_2d_keypoint/topdown_heatmap/coco_wholebody_hand/'
    'td-hm_hourglass52_8xb32-210e_coco-wholebody-hand-256x256.py'
]
custom_imports = dict(imports=['hg_plugin'], allow_failed_imports=False)
# hg_plugin's checks (one line naming the key to fix) and checkpoints that
# torch loads weights-only with nothing allowlisted
custom_hooks = [
    dict(type='ConfigCheckHook'),
    dict(type='WeightsOnlyCheckpointHook')
]

num_stacks = 2
num_keypoints = 21
model = dict(
    backbone=dict(
        _delete_=True, type='StackedHourglass', num_stacks=num_stacks,
        num_keypoints=num_keypoints),
    head=dict(
        _delete_=True,
        type='StackedHeatmapHead',
        num_stacks=num_stacks,
        out_channels=num_keypoints,
        loss=dict(type='MultiStackHeatmapLoss',
                  loss=dict(type='KeypointMSELoss', use_target_weight=True)),
        decoder={{_base_.codec}}))
