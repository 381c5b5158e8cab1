# Stacked Hourglass, 8 stacks, COCO, 384x288 (HxW), 96x72 heatmaps. The paper
# shrank inputs to 256 for GPU memory; higher resolution helps heatmap models
# (MMPose's hourglass52: 0.889 -> 0.894 PCKh on MPII at 384).
# depth=3 instead of 4: after the /4 stem a 288-wide input is 72 wide, which
# can be halved 3 times but not 4 (the backbone refuses such inputs).
# sigma scaled with the heatmap: 2 at 64x48 -> 3 at 96x72.
_base_ = ['./hg8_coco_256x256.py']
from hg_plugin.pipelines import topdown_pipelines  # noqa: E402

codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96),
             sigma=3)
model = dict(backbone=dict(depth=3), head=dict(decoder=codec))

train_pipeline, val_pipeline = topdown_pipelines(codec, augment='coco')
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
