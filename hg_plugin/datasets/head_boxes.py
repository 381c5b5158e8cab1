"""MPII head boxes (the PCKh normaliser) for MPII-format samples shipped
without MPII's ``mpii_gt_val.mat``: approximated from the head joints and
written in the layout ``MpiiDataset`` reads."""
from typing import List

import numpy as np
from scipy.io import savemat


def approx_head_boxes(records: List[dict]) -> np.ndarray:
    """Approximate MPII head boxes (N, 2, 2) from upper neck (8) and head top
    (9): a square on the head segment, as the official boxes roughly are (for
    MPII-format samples shipped without MPII's ``.mat``)."""
    boxes = []
    for rec in records:
        neck, top = np.array(rec['joints'][8]), np.array(rec['joints'][9])
        centre, half = (neck + top) / 2, np.linalg.norm(top - neck) / 2
        boxes.append([centre - half, centre + half])
    return np.array(boxes)


def write_headboxes(path: str, boxes: np.ndarray) -> None:
    """Save (N, 2, 2) boxes ``[[x1, y1], [x2, y2]]`` as MPII's
    ``headboxes_src`` of shape (2, 2, N), the layout MpiiDataset reads."""
    savemat(path, {'headboxes_src': np.transpose(boxes, (1, 2, 0))})
