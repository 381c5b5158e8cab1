"""Image loading that refuses truncated files instead of training on them."""
from mmengine.fileio import get
from mmpose.datasets.transforms import LoadImage
from mmpose.registry import TRANSFORMS

# a complete JPEG ends with the EOI marker, a complete PNG with its IEND chunk
_END_MARKERS = {b'\xff\xd8': b'\xff\xd9', b'\x89PNG': b'IEND'}


@TRANSFORMS.register_module()
class VerifiedLoadImage(LoadImage):
    """MMPose's ``LoadImage``, but a JPEG/PNG file cut short (which OpenCV may
    decode into a partly grey image without complaint) raises an error naming
    the file. Same arguments as ``LoadImage``."""

    def transform(self, results: dict) -> dict:
        path = results.get('img_path')
        if results.get('img') is None and path is not None:
            data = get(path, backend_args=self.backend_args)
            for start, end in _END_MARKERS.items():
                if data.startswith(start) and end not in data[-64:]:
                    raise ValueError(
                        f'truncated image file {path}: re-download it or '
                        'remove its annotation')
        return super().transform(results)
