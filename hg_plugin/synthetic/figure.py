"""One synthetic figure in MPII's joint order: the 16 joints of a frontal
pose (:func:`sample_pose`), drawn over a cluttered background
(:func:`render`), with its MPII record and head box (:func:`make_sample`,
the ``easy`` setting). The person's right limbs attach on the image's left,
as for a person facing the camera, so labels stay consistent under flip
augmentation."""
from typing import Dict, Tuple

import cv2
import numpy as np

# MPII joint order (MMPose's mpii dataset_info)
R_ANKLE, R_KNEE, R_HIP, L_HIP, L_KNEE, L_ANKLE, PELVIS, THORAX, NECK, \
    HEAD_TOP, R_WRIST, R_ELBOW, R_SHOULDER, L_SHOULDER, L_ELBOW, L_WRIST = \
    range(16)
LIMBS = [(R_ANKLE, R_KNEE), (R_KNEE, R_HIP), (L_HIP, L_KNEE), (L_KNEE, L_ANKLE),
         (R_WRIST, R_ELBOW), (R_ELBOW, R_SHOULDER), (L_SHOULDER, L_ELBOW),
         (L_ELBOW, L_WRIST), (THORAX, NECK)]


def _unit(deg: float) -> np.ndarray:
    """Unit vector at ``deg`` degrees from straight down (image y grows down)."""
    r = np.deg2rad(deg)
    return np.array([np.sin(r), np.cos(r)])


def sample_pose(rng: np.random.Generator, height: float) -> np.ndarray:
    """16 MPII joints (x, y) of a frontal figure of about ``height`` pixels,
    pelvis at the origin."""
    j = np.zeros((16, 2))
    lean = rng.uniform(-25, 25)
    up = -_unit(lean)                       # pelvis -> thorax
    right = np.array([-up[1], up[0]])       # towards the image's right
    j[THORAX] = 0.30 * height * up
    j[NECK] = j[THORAX] + 0.06 * height * up
    j[HEAD_TOP] = j[NECK] + 0.17 * height * -_unit(lean + rng.uniform(-20, 20))
    j[R_SHOULDER], j[L_SHOULDER] = (j[THORAX] + s * 0.11 * height * right
                                    for s in (-1, 1))
    j[R_HIP], j[L_HIP] = (s * 0.07 * height * right for s in (-1, 1))
    for side, (sh, el, wr) in ((-1, (R_SHOULDER, R_ELBOW, R_WRIST)),
                               (1, (L_SHOULDER, L_ELBOW, L_WRIST))):
        a = lean + side * rng.uniform(-30, 150)
        j[el] = j[sh] + 0.17 * height * _unit(a)
        j[wr] = j[el] + 0.15 * height * _unit(a + side * rng.uniform(-20, 120))
    for side, (hp, kn, an) in ((-1, (R_HIP, R_KNEE, R_ANKLE)),
                               (1, (L_HIP, L_KNEE, L_ANKLE))):
        a = lean + side * rng.uniform(-15, 50)
        j[kn] = j[hp] + 0.24 * height * _unit(a)
        j[an] = j[kn] + 0.23 * height * _unit(a - side * rng.uniform(0, 70))
    return j


def plain_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """One colour, pixel noise and 2-5 distractor strokes (BGR uint8)."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = rng.integers(0, 256, 3)
    img = cv2.add(img, rng.normal(0, 12, img.shape).astype(np.int16),
                  dtype=cv2.CV_8U)
    for _ in range(rng.integers(2, 6)):    # distractor strokes
        p, q = rng.integers(0, size, (2, 2))
        cv2.line(img, tuple(map(int, p)), tuple(map(int, q)),
                 tuple(map(int, rng.integers(0, 256, 3))),
                 int(rng.integers(2, 6)), cv2.LINE_AA)
    return img


def render(rng: np.random.Generator, joints: np.ndarray, size: int,
           height: float) -> np.ndarray:
    """Draw the figure over a noisy, cluttered background (BGR uint8)."""
    img = plain_background(rng, size)
    body = tuple(map(int, rng.integers(0, 256, 3)))
    joint_color = tuple(255 - c for c in body)
    width = max(2, int(0.05 * height))
    pt = [tuple(np.round(p).astype(int)) for p in joints]
    torso = np.array([pt[R_SHOULDER], pt[L_SHOULDER], pt[L_HIP], pt[R_HIP]])
    cv2.fillConvexPoly(img, torso, body, cv2.LINE_AA)
    for a, b in LIMBS:
        cv2.line(img, pt[a], pt[b], body, width, cv2.LINE_AA)
    head_c = (joints[NECK] + joints[HEAD_TOP]) / 2
    head_r = np.linalg.norm(joints[HEAD_TOP] - joints[NECK]) / 2
    cv2.circle(img, tuple(np.round(head_c).astype(int)), int(head_r), body, -1,
               cv2.LINE_AA)
    for k in range(16):
        if k not in (PELVIS, THORAX, NECK, HEAD_TOP):
            cv2.circle(img, pt[k], max(1, width // 2), joint_color, -1,
                       cv2.LINE_AA)
    return img


def make_sample(rng: np.random.Generator, size: int) -> Tuple[np.ndarray, Dict,
                                                              np.ndarray]:
    """One image, its MPII json record (image name left to the caller) and its
    head box ``[[x1, y1], [x2, y2]]``."""
    height = rng.uniform(0.55, 0.8) * size
    joints = sample_pose(rng, height)
    lo, hi = joints.min(0), joints.max(0)
    margin = 0.06 * size
    offset = rng.uniform(margin - lo, size - margin - hi)
    offset = np.where(hi - lo + 2 * margin > size, (size - lo - hi) / 2, offset)
    joints += offset
    img = render(rng, joints, size, height)
    lo, hi = joints.min(0), joints.max(0)
    head_c = (joints[NECK] + joints[HEAD_TOP]) / 2
    half = np.linalg.norm(joints[HEAD_TOP] - joints[NECK]) / 2
    record = dict(
        joints=joints.round(2).tolist(),
        joints_vis=[1] * 16,
        # MPII centres are 1-based (MpiiDataset subtracts 1); scale is the
        # person height / 200.
        center=((lo + hi) / 2 + 1).round(2).tolist(),
        scale=float(round(max(hi - lo) / 200, 4)))
    return img, record, np.stack([head_c - half, head_c + half])
