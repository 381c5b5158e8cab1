# Mixing: MMPose's COCO-WholeBody-Hand config (21 hand keypoints; its model
# zoo entry is hourglass52) with Newell's 2-stack hourglass instead. Dataset,
# pipeline, codec (256x256, 64x64) and metrics (PCK, AUC, EPE) are MMPose's.
_base_ = [
    'mmpose::hand_2d_keypoint/topdown_heatmap/coco_wholebody_hand/'
    'td-hm_hourglass52_8xb32-210e_coco-wholebody-hand-256x256.py',
    '../_base_/hg_run_guards.py'
]
from hg_plugin.model_configs import hourglass_model  # noqa: E402

# the zoo config's hooks and hg_plugin's run guards (config checks naming the
# key to fix, weights-only checkpoints, ...: configs/_base_/hg_run_guards.py)
custom_hooks = [*_base_.custom_hooks, *_base_.hg_run_guards]  # noqa: F821

num_stacks = 2
num_keypoints = 21
# the hourglass backbone and its stacked head (MMPose's heatmap MSE with
# target weights on every stack) in place of the zoo model's
model = hourglass_model(num_stacks, num_keypoints,
                        decoder=_base_.codec)  # noqa: F821
