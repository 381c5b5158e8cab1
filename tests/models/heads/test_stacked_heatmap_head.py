import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.structures import PoseDataSample

import hg_plugin  # noqa: F401
from hg_plugin.models.heads import StackedHeatmapHead
from mmpose.registry import MODELS

K, H, W = 4, 16, 16
CODEC = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(W, H),
             sigma=1)


def head(stacks=3, weights=None):
    loss = dict(type='MultiStackHeatmapLoss')
    if weights:
        loss['stack_weights'] = weights
    return MODELS.build(dict(type='StackedHeatmapHead', num_stacks=stacks,
                             out_channels=K, loss=loss, decoder=CODEC))


def samples(b=2):
    out = []
    for _ in range(b):
        s = PoseDataSample(metainfo=dict(flip_indices=[1, 0, 3, 2]))
        s.gt_fields = PixelData(heatmaps=torch.rand(K, H, W))
        s.gt_instance_labels = InstanceData(
            keypoint_weights=torch.ones(1, K))
        out.append(s)
    return out


def peaks(b=2, stacks=3):
    """Heatmaps with one clear peak per keypoint, at known pixels."""
    hm = torch.zeros(b, K, H, W)
    for k in range(K):
        hm[:, k, 3 + 2 * k, 5 + k] = 1.0
    return tuple(hm.clone() * (i + 1) for i in range(stacks))


def test_loss_reports_every_stack_with_weights():
    h = head(weights=[0.5, 1.0, 2.0])
    data = samples()
    feats = tuple(torch.rand(2, K, H, W) for _ in range(3))
    losses = h.loss(feats, data)
    assert set(losses) == {'loss_kpt_stack0', 'loss_kpt_stack1',
                           'loss_kpt_stack2', 'acc_pose'}
    per_stack = h.loss_module(
        feats, torch.stack([d.gt_fields.heatmaps for d in data]),
        torch.ones(2, K))
    for i in range(3):
        torch.testing.assert_close(losses[f'loss_kpt_stack{i}'], per_stack[i])
    assert per_stack[2] > per_stack[1] > 0  # weights applied


def test_acc_pose_comes_from_last_stack():
    h = head()
    data = samples()
    gt = peaks()[0][0]
    for d in data:
        d.gt_fields.heatmaps = gt
    good = peaks()
    bad = (good[0], good[1], torch.roll(good[2], 6, dims=-1))
    assert float(h.loss(good, data)['acc_pose']) == 1.0
    assert float(h.loss(bad, data)['acc_pose']) == 0.0


def test_predict_decodes_last_stack():
    h = head()
    feats = peaks()
    feats = (torch.roll(feats[0], 3, -1), feats[1], feats[2])
    preds = h.predict(feats, samples(), test_cfg={})
    kpts = preds[0].keypoints[0]
    # decoded in input (64x64) space: heatmap pixel * 4
    for k in range(K):
        np.testing.assert_allclose(kpts[k], [(5 + k) * 4, (3 + 2 * k) * 4],
                                   atol=1.5)


def test_predict_decodes_another_stack_when_asked():
    h = head()
    feats = peaks()
    feats = (torch.roll(feats[0], 3, -1), feats[1], feats[2])
    kpts = h.predict(feats, samples(), test_cfg=dict(stack=0))[0].keypoints[0]
    for k in range(K):  # the first stack's peaks, moved 3 pixels right
        np.testing.assert_allclose(kpts[k], [(8 + k) * 4, (3 + 2 * k) * 4],
                                   atol=1.5)


def test_flip_test_averages_last_stack_with_flipped_shifted_prediction():
    h = head()
    torch.manual_seed(0)
    a = tuple(torch.rand(2, K, H, W) for _ in range(3))
    b = tuple(torch.rand(2, K, H, W) for _ in range(3))
    cfg = dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True,
               output_heatmaps=True)
    _, fields = h.predict([a, b], samples(), test_cfg=cfg)
    expected = (a[2] + flip_heatmaps(b[2].clone(), [1, 0, 3, 2],
                                     'heatmap', True)) / 2
    torch.testing.assert_close(fields[1].heatmaps, expected[1])
    # the shift: flipped column j lands on column j+1
    torch.testing.assert_close(expected[0, 1, :, 1:] * 2 - a[2][0, 1, :, 1:],
                               b[2][0, 0].flip(-1)[:, :-1])


def test_head_refuses_mismatched_stacks_and_keypoints():
    h = head()
    with pytest.raises(ValueError, match='num_stacks'):
        h.forward(tuple(torch.rand(1, K, H, W) for _ in range(2)))
    with pytest.raises(ValueError, match='num_keypoints'):
        h.forward(tuple(torch.rand(1, K + 1, H, W) for _ in range(3)))
    # a neck that concatenated the stacks: not a stack-count problem
    with pytest.raises(ValueError, match=r'model.neck=None') as e:
        h.forward((torch.rand(1, 3 * K, H, W), ))
    assert 'set model.head.num_stacks' not in str(e.value)


def test_heatmap_size_mismatch_is_refused():
    h = head()
    with pytest.raises(ValueError, match='heatmap_size'):
        h.loss(tuple(torch.rand(2, K, 8, 8) for _ in range(3)), samples())


@pytest.mark.parametrize('seed', range(6))
def test_training_accuracy_is_mmposes_without_a_host_copy(seed):
    """acc_pose on the device equals MMPose's numpy pose_pck_accuracy, its
    quirks included (x by the height, y by the width, non-positive maxima,
    unlabelled keypoints), on heatmaps of a non-square size."""
    from mmpose.evaluation.functional import pose_pck_accuracy
    g = torch.Generator().manual_seed(seed)
    n, k, h, w = 4, K, 12, 20
    gt = torch.rand(n, k, h, w, generator=g)
    pred = gt + 0.3 * torch.randn(n, k, h, w, generator=g)
    pred[0, 1] = -1.0  # a non-positive maximum
    gt[1, 2] = 0.0
    weights = (torch.rand(n, k, generator=g) > 0.3).float()
    weights[:, 3] = 0  # a keypoint labelled nowhere
    _, expected, _ = pose_pck_accuracy(pred.numpy(), gt.numpy(),
                                       weights.numpy() > 0)
    got = StackedHeatmapHead.accuracy(pred, gt, weights)
    assert got.device == pred.device and got.dim() == 0
    assert float(got) == pytest.approx(float(expected), abs=1e-6)
