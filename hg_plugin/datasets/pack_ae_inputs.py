"""Pack what Associative Embedding training needs."""
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackAEInputs(PackPoseInputs):
    """MMPose's ``PackPoseInputs``, plus the ``keypoint_indices`` that the
    ``AssociativeEmbedding`` codec encodes and ``AssociativeEmbeddingLoss``
    reads from ``gt_instance_labels`` (MMPose 1.3's ``PackPoseInputs`` leaves
    them out, so its AE configs cannot train). Same arguments."""

    label_mapping_table = dict(PackPoseInputs.label_mapping_table,
                               keypoint_indices='keypoint_indices')
