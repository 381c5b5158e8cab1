import pytest
import torch
from mmpose.models.losses import KeypointMSELoss, KeypointOHKMMSELoss

import hg_plugin  # noqa: F401
from mmpose.registry import MODELS


def data(stacks=3, b=2, k=4):
    torch.manual_seed(0)
    preds = [torch.rand(b, k, 8, 8) for _ in range(stacks)]
    return preds, torch.rand(b, k, 8, 8), torch.rand(b, k)


def test_one_weighted_loss_per_stack():
    preds, target, w = data()
    loss = MODELS.build(dict(type='MultiStackHeatmapLoss', num_stacks=3,
                             stack_weights=[0.5, 1.0, 2.0]))
    base = KeypointMSELoss(use_target_weight=True)
    out = loss(preds, target, w)
    assert out.shape == (3, )
    for i, s in enumerate([0.5, 1.0, 2.0]):
        torch.testing.assert_close(out[i], s * base(preds[i], target, w))


def test_default_weights_are_one_and_base_loss_is_mse():
    preds, target, w = data()
    loss = MODELS.build(dict(type='MultiStackHeatmapLoss', num_stacks=3))
    assert isinstance(loss.base_loss, KeypointMSELoss)
    assert loss.stack_weights.tolist() == [1.0, 1.0, 1.0]


def test_ohkm_is_selectable():
    preds, target, w = data(k=10)
    loss = MODELS.build(dict(
        type='MultiStackHeatmapLoss', num_stacks=3,
        loss=dict(type='KeypointOHKMMSELoss', use_target_weight=True,
                  topk=4)))
    ohkm = KeypointOHKMMSELoss(use_target_weight=True, topk=4)
    torch.testing.assert_close(loss(preds, target, w)[2],
                               ohkm(preds[2], target, w))


def test_wrong_number_of_weights_is_one_clear_error():
    with pytest.raises(ValueError, match=r'stack_weights.*2 entries.*3 stacks'):
        MODELS.build(dict(type='MultiStackHeatmapLoss', num_stacks=3,
                          stack_weights=[1, 1]))


def test_wrong_number_of_stacks_is_refused():
    preds, target, w = data(stacks=2)
    loss = MODELS.build(dict(type='MultiStackHeatmapLoss', num_stacks=3))
    with pytest.raises(ValueError, match='2 stacks'):
        loss(preds, target, w)
