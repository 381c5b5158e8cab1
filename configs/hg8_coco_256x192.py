# Stacked Hourglass, 8 stacks, COCO keypoints, top-down, 256x192 (HxW): the
# input of the HRNet/CPN comparisons (8-stage hourglass 66.9 AP there,
# HRNet-W32 74.9 AP). hg8_coco_256x256.py with a 192-wide input and 64x48
# heatmaps; 256 and 192 are both multiples of 64, as depth 4 needs.
_base_ = ['./hg8_coco_256x256.py']
from hg_plugin.pipelines import topdown_pipelines  # noqa: E402

codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
             sigma=2)
model = dict(head=dict(decoder=codec))

train_pipeline, val_pipeline = topdown_pipelines(codec, augment='coco')
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
