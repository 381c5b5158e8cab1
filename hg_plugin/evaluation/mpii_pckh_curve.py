"""MPII PCKh over the whole threshold range, for ablations."""
from typing import Dict

import numpy as np
from mmpose.evaluation.functional import keypoint_pck_accuracy
from mmpose.evaluation.metrics import MpiiPCKAccuracy
from mmpose.registry import METRICS

THRESHOLDS = np.round(np.arange(0, 0.5 + 1e-9, 0.01), 2)
REPORTED = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def pckh_curve(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray,
               head_size: np.ndarray) -> np.ndarray:
    """Mean PCKh (%) at :data:`THRESHOLDS` with MMPose's MPII conventions
    (1-based predictions, pelvis and thorax left out, joints weighted by
    how often they are labelled), as ``MpiiPCKAccuracy`` computes its
    'PCK' and 'PCK@0.1'."""
    count = mask.sum(0).astype(np.float64)
    count[6:8] = 0
    ratio = count / count.sum()
    curve = []
    for t in THRESHOLDS:
        pck, _, _ = keypoint_pck_accuracy(pred + 1.0, gt, mask, t, head_size)
        curve.append(100. * float(np.sum(pck * ratio)))
    return np.array(curve)


@METRICS.register_module()
class MpiiPCKhCurve(MpiiPCKAccuracy):
    """``MpiiPCKAccuracy`` (same keys: per-joint PCKh, 'PCK' at ``thr``,
    'PCK@0.1'), plus 'PCKh@t' for t = 0.05, 0.1, ..., 0.5 and 'AUC', the
    mean PCKh over thresholds 0 to 0.5 in steps of 0.01 (in %)."""

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        curve = pckh_curve(
            np.concatenate([r['pred_coords'] for r in results]),
            np.concatenate([r['gt_coords'] for r in results]),
            np.concatenate([r['mask'] for r in results]),
            np.concatenate([r['head_size'] for r in results]))
        for t in REPORTED:
            metrics[f'PCKh@{t:g}'] = float(curve[THRESHOLDS == t][0])
        metrics['AUC'] = float(curve.mean())
        return metrics
