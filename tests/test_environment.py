"""What MMPose's own shipped configs need at run time is installed
(tools/setup_env.sh): the Albumentation transform of the RTMPose/CSPNeXt
training pipelines, with exactly the arguments those configs pass."""
import numpy as np
from mmpose.datasets.transforms import Albumentation


def test_rtmpose_albumentation_transform_runs():
    transform = Albumentation(transforms=[
        dict(type='Blur', p=1.0),
        dict(type='MedianBlur', p=1.0),
        dict(type='CoarseDropout', max_holes=1, max_height=0.4,
             max_width=0.4, min_holes=1, min_height=0.2, min_width=0.2,
             p=1.0),
    ])
    img = np.random.default_rng(0).integers(0, 255, (64, 48, 3), np.uint8)
    out = transform(dict(img=img.copy()))
    assert out['img'].shape == img.shape
    assert not np.array_equal(out['img'], img)  # it did transform
