"""The ``medium`` and ``hard`` settings of the synthetic MPII-format
generator: benchmarks that small models do not saturate, for ablations
(``tools/ablation.py``).

Per image of the ``hard`` setting, on top of the ``easy`` setting's figure
(``medium`` draws the same scene with the narrower ranges of
:data:`MEDIUM`, and marks the limb joints with dots as ``easy`` does):

- a textured background: a colour gradient, sinusoidal stripes at a random
  angle and frequency, 8-20 random shapes and strokes, pixel noise;
- wide scale and rotation: figure height 0.35-1.0 of the image, the whole
  figure rotated by up to +-60 deg (plus the ``easy`` lean of +-25 deg);
- self-occlusion: each arm and leg is drawn behind or in front of the torso
  at random, with the limbs' widths varying;
- 0-2 other figures (the same renderer, other colours), behind or in front
  of the target, which stays centred;
- 0-3 occluding shapes drawn over the figure, often right on a joint;
- truncation: in 30% of the images the target is shifted so that part of it
  leaves the image.

Labels follow MPII: a joint inside the image is labelled (``joints_vis`` 1)
even when something covers it; a joint outside the image is not labelled
(``joints_vis`` 0), and the head box, centre and scale describe the whole
figure. Each record also holds ``joints_occluded`` (1 where the target's own
part does not show at the joint), which MMPose ignores.
"""
from typing import Dict, List, NamedTuple, Tuple

import cv2
import numpy as np

from .figure import (HEAD_TOP, L_ANKLE, L_ELBOW, L_HIP, L_KNEE,
                     L_SHOULDER, L_WRIST, NECK, PELVIS, R_ANKLE,
                     R_ELBOW, R_HIP, R_KNEE, R_SHOULDER, R_WRIST,
                     THORAX, plain_background, sample_pose)

ARMS = [[(R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST)],
        [(L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST)]]
LEGS = [[(R_HIP, R_KNEE), (R_KNEE, R_ANKLE)],
        [(L_HIP, L_KNEE), (L_KNEE, L_ANKLE)]]
TORSO_JOINTS = (R_SHOULDER, L_SHOULDER, L_HIP, R_HIP, PELVIS, THORAX)
HEAD_JOINTS = (NECK, HEAD_TOP)


class Clutter(NamedTuple):
    """How much of each difficulty a scene gets."""
    height: Tuple[float, float]   # figure height / image size
    rotation: float               # whole-figure rotation, +- degrees
    others: int                   # other figures, 0..others
    occluders: int                # occluding shapes, 0..occluders
    truncation: float             # probability the target leaves the image
    textured: bool = True         # else the ``easy`` plain background
    joint_marks: bool = False     # a contrasting dot on each limb joint


HARD = Clutter(height=(0.35, 1.0), rotation=60, others=2, occluders=3,
               truncation=0.3)
# between ``easy`` and ``hard`` (the ablation benchmark): the ``easy``
# set's joint dots; from ``hard`` the textured background, self-occlusion
# (limbs, with their dots, behind or in front of the torso, widths varying)
# and up to two occluding shapes; the paper's +-30 deg; no other figure, no
# truncation
MEDIUM = Clutter(height=(0.5, 0.9), rotation=30, others=0, occluders=2,
                 truncation=0.0, textured=True, joint_marks=True)


def _colour(rng) -> Tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def textured_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Gradient + stripes + random shapes + noise (BGR uint8)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    a, b = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    t = (np.cos(rng.uniform(0, np.pi)) * xx + np.sin(rng.uniform(0, np.pi))
         * yy)[..., None]
    img = a + (b - a) * np.clip(t, 0, 1)
    angle = rng.uniform(0, np.pi)
    stripes = np.sin((np.cos(angle) * xx + np.sin(angle) * yy)
                     * rng.uniform(6, 40) * np.pi)
    img += stripes[..., None] * rng.uniform(10, 50, 3).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.integers(8, 21)):
        kind, c = rng.integers(0, 4), _colour(rng)
        p = tuple(int(v) for v in rng.integers(0, size, 2))
        if kind == 0:
            q = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.line(img, p, q, c, int(rng.integers(1, 7)), cv2.LINE_AA)
        elif kind == 1:
            cv2.circle(img, p, int(rng.integers(3, size // 6)), c,
                       -1 if rng.random() < 0.6 else 2, cv2.LINE_AA)
        elif kind == 2:
            q = tuple(int(v) for v in rng.integers(0, size, 2))
            cv2.rectangle(img, p, q, c, -1 if rng.random() < 0.5 else 2)
        else:
            pts = rng.integers(0, size, (int(rng.integers(3, 6)), 2))
            cv2.fillPoly(img, [pts.astype(np.int32)], c, cv2.LINE_AA)
    noise = rng.normal(0, rng.uniform(4, 16), img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def _draw_figure(img, owner, joints, height, colour, ids, rng,
                 marks: bool = False) -> None:
    """Draw a figure; ``owner`` gets ``ids[part]`` where each part shows.
    Parts: 'torso', 'head', ('arm', 0|1), ('leg', 0|1); each limb in front
    of or behind the torso at random. ``marks``: a dot of the opposite
    colour on each limb joint, drawn with its limb (as ``easy`` marks
    joints), so a limb behind the torso hides its dots too."""
    pt = [tuple(int(v) for v in np.round(p)) for p in joints]
    base = max(2, int(0.05 * height))

    def paint(part, draw):
        mask = np.zeros(owner.shape, np.uint8)
        draw(img)
        draw(mask)
        owner[mask > 0] = ids[part]

    def limb(part, segments):
        w = max(2, int(base * rng.uniform(0.7, 1.5)))
        for a, b in segments:
            paint(part, lambda t, a=a, b=b: cv2.line(
                t, pt[a], pt[b], colour if t.ndim == 3 else 255, w,
                cv2.LINE_AA if t.ndim == 3 else cv2.LINE_8))
        for k in sorted({k for seg in segments for k in seg}) if marks \
                else ():
            paint(part, lambda t, k=k: cv2.circle(
                t, pt[k], max(1, base // 2),
                tuple(255 - c for c in colour) if t.ndim == 3 else 255, -1,
                cv2.LINE_AA if t.ndim == 3 else cv2.LINE_8))

    limbs = [(('arm', i), s) for i, s in enumerate(ARMS)] + \
        [(('leg', i), s) for i, s in enumerate(LEGS)]
    front = [rng.random() < 0.5 for _ in limbs]
    for (part, segs), f in zip(limbs, front):
        if not f:
            limb(part, segs)
    torso = np.array([pt[R_SHOULDER], pt[L_SHOULDER], pt[L_HIP], pt[R_HIP]],
                     np.int32)
    paint('torso', lambda t: cv2.fillConvexPoly(
        t, torso, colour if t.ndim == 3 else 255))
    centre = (joints[NECK] + joints[HEAD_TOP]) / 2
    r = max(2, int(np.linalg.norm(joints[HEAD_TOP] - joints[NECK]) / 2))
    paint('head', lambda t: cv2.circle(
        t, tuple(int(v) for v in np.round(centre)), r,
        colour if t.ndim == 3 else 255, -1))
    for (part, segs), f in zip(limbs, front):
        if f:
            limb(part, segs)


def _parts_of(k: int) -> List:
    parts = []
    if k in TORSO_JOINTS:
        parts.append('torso')
    if k in HEAD_JOINTS:
        parts.append('head')
    for i, segs in enumerate(ARMS):
        if any(k in s for s in segs):
            parts.append(('arm', i))
    for i, segs in enumerate(LEGS):
        if any(k in s for s in segs):
            parts.append(('leg', i))
    return parts


def _posed(rng, height, rotation) -> np.ndarray:
    """A figure's joints rotated about its pelvis by up to +-``rotation``
    degrees."""
    joints = sample_pose(rng, height)
    a = np.deg2rad(rng.uniform(-rotation, rotation))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return joints @ rot.T


def make_hard_sample(rng: np.random.Generator, size: int,
                     clutter: Clutter = HARD
                     ) -> Tuple[np.ndarray, Dict, np.ndarray]:
    """One image, its MPII json record (image name left to the caller) and
    the target's head box ``[[x1, y1], [x2, y2]]``."""
    img = textured_background(rng, size) if clutter.textured else \
        plain_background(rng, size)
    owner = np.zeros((size, size), np.int16)
    height = rng.uniform(*clutter.height) * size
    joints = _posed(rng, height, clutter.rotation)
    lo, hi = joints.min(0), joints.max(0)
    joints += size / 2 - (lo + hi) / 2 + rng.normal(0, 0.03 * size, 2)
    if rng.random() < clutter.truncation:  # truncated at the border
        joints += rng.choice([-1, 1], 2) * rng.uniform(0.15, 0.35, 2) * size
    others = []
    for _ in range(rng.integers(0, clutter.others + 1)):
        h = rng.uniform(*clutter.height) * size
        o = _posed(rng, h, clutter.rotation)
        o += joints.mean(0) - o.mean(0) + rng.choice([-1, 1]) * np.array(
            [rng.uniform(0.25, 0.6) * size, 0]) + rng.normal(0, 0.1 * size, 2)
        others.append((o, h, rng.random() < 0.3))
    ids = {p: i + 1 for i, p in enumerate(
        ['torso', 'head', ('arm', 0), ('arm', 1), ('leg', 0), ('leg', 1)])}
    other_ids = {p: 100 for p in ids}
    colour = _colour(rng)
    for o, h, in_front in others:
        if not in_front:
            _draw_figure(img, owner, o, h, _colour(rng), other_ids, rng)
    _draw_figure(img, owner, joints, height, colour, ids, rng,
                 clutter.joint_marks)
    for o, h, in_front in others:
        if in_front:
            _draw_figure(img, owner, o, h, _colour(rng), other_ids, rng)
    for _ in range(rng.integers(0, clutter.occluders + 1)):  # often on a joint
        c = joints[rng.integers(0, 16)] if rng.random() < 0.7 else \
            rng.uniform(0, size, 2)
        c = c + rng.normal(0, 0.05 * size, 2)
        axes = tuple(int(v) for v in rng.uniform(0.04, 0.12, 2) * size)
        mask = np.zeros(owner.shape, np.uint8)
        for t, col in ((img, _colour(rng)), (mask, 255)):
            cv2.ellipse(t, tuple(int(v) for v in c), axes,
                        float(rng.uniform(0, 180)), 0, 360, col, -1)
        owner[mask > 0] = 200
    inside = np.all((joints >= 0) & (joints <= size - 1), axis=1)
    occluded = []
    for k, (x, y) in enumerate(joints):
        if not inside[k]:
            occluded.append(0)
            continue
        shown = owner[int(round(y)), int(round(x))]
        occluded.append(int(shown not in {ids[p] for p in _parts_of(k)}))
    lo, hi = joints.min(0), joints.max(0)
    head_c = (joints[NECK] + joints[HEAD_TOP]) / 2
    half = np.linalg.norm(joints[HEAD_TOP] - joints[NECK]) / 2
    record = dict(
        joints=joints.round(2).tolist(),
        joints_vis=inside.astype(int).tolist(),
        joints_occluded=occluded,
        center=((lo + hi) / 2 + 1).round(2).tolist(),  # 1-based, as MPII
        scale=float(round(max(hi - lo) / 200, 4)))
    return img, record, np.stack([head_c - half, head_c + half])
