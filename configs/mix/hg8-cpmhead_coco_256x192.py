# Mixing with an MMPose head: MMPose's COCO SimpleBaseline config with the
# hourglass backbone emitting every stack's 256-channel features
# (out_type='features') and MMPose's own CPMHead putting a 1x1 heatmap conv
# and a loss on each stack (intermediate supervision, MMPose's way). The
# backbone's in-network heatmap convs then carry latent 17-channel maps
# between stacks.
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
    'td-hm_res50_8xb64-210e_coco-256x192.py',
    '../_base_/hg_run_guards.py'
]
# the zoo config's hooks and hg_plugin's run guards (config checks naming the
# key to fix, weights-only checkpoints, ...: configs/_base_/hg_run_guards.py)
custom_hooks = [*_base_.custom_hooks, *_base_.hg_run_guards]  # noqa: F821

num_stacks = 8
model = dict(
    backbone=dict(
        _delete_=True, type='StackedHourglass', num_stacks=num_stacks,
        num_keypoints=17, out_type='features'),
    head=dict(
        _delete_=True,
        type='CPMHead',
        in_channels=256,
        out_channels=17,
        num_stages=num_stacks,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder={{_base_.codec}}))
