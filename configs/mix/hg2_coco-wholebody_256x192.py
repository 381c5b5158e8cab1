# Mixing: MMPose's COCO-WholeBody SimpleBaseline config (133 keypoints: body,
# feet, face, hands) with a 2-stack hourglass in place of ResNet-50 + deconv
# head. Only the model changes; dataset, pipeline, codec (256x192, 64x48
# heatmaps), metric and schedule are MMPose's.
_base_ = [
    'mmpose::wholebody_2d_keypoint/topdown_heatmap/coco-wholebody/'
    'td-hm_res50_8xb64-210e_coco-wholebody-256x192.py',
    '../_base_/hg_run_guards.py'
]
from hg_plugin.model_configs import hourglass_model  # noqa: E402

# the zoo config's hooks and hg_plugin's run guards (config checks naming the
# key to fix, weights-only checkpoints, ...: configs/_base_/hg_run_guards.py)
custom_hooks = [*_base_.custom_hooks, *_base_.hg_run_guards]  # noqa: F821

num_stacks = 2
num_keypoints = 133
# the hourglass backbone and its stacked head (MMPose's heatmap MSE with
# target weights on every stack) in place of the zoo model's
model = hourglass_model(num_stacks, num_keypoints,
                        decoder=_base_.codec)  # noqa: F821
