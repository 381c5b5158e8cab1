"""Checks that run before anything is built, each naming the config key or
file to fix in one line: the model config (:mod:`.config`), the data files
(:mod:`.data_files`), the annotation records (:mod:`.records`,
:mod:`.dataset_records`), the images they name (:mod:`.images`), the head's output against the codec
(:mod:`.shapes`), a resumed run's changed settings (:mod:`.config_diff`),
on the metainfo they share (:mod:`.metainfo`)."""
from .config import check_config
from .config_diff import config_changes, describe_changes
from .data_files import find_missing_data, missing_data_message
from .dataset_records import (find_invalid_records, invalid_records,
                              keep_valid_records)
from .images import (find_unreadable_images, missing_images_message,
                     why_unreadable)
from .metainfo import (dataset_configs, dataset_metainfo,
                       dataset_num_keypoints, metainfo_keypoints,
                       registered_default, with_defaults)
from .records import check_coco_file, check_mpii_file
from .shapes import check_output_shapes

__all__ = [
    'check_coco_file', 'check_config', 'check_mpii_file',
    'check_output_shapes', 'config_changes',
    'dataset_configs', 'dataset_metainfo', 'describe_changes',
    'dataset_num_keypoints', 'find_invalid_records', 'find_missing_data',
    'find_unreadable_images', 'invalid_records', 'keep_valid_records',
    'metainfo_keypoints', 'missing_data_message', 'missing_images_message',
    'registered_default', 'why_unreadable', 'with_defaults'
]
