"""Mixed configs learn, not only run: one config per head family overfits
the real samples of tests/data through MMPose's own tools/train.py
(tools/_sweep/learn.py: the config's own model, loss, optimizer and lr;
no augmentation, a short warm-up instead of its schedule): where the head
logs a training accuracy it rises by 0.1 and the loss falls by half from
the end of the warm-up; where it logs none, the loss falls below half its
first value."""
import sys

import pytest

import hg_plugin  # noqa: F401  (registers the modules)
from hg_plugin.mix import write_mixed_config
from tests.conftest import REPO

sys.path.insert(0, str(REPO / 'tools'))
from _sweep.learn import (describe, learn_overrides,  # noqa: E402
                          learning_curve, learns)

# family: (config, iterations, whether its head logs acc_pose)
FAMILIES = {
    # StackedHeatmapHead on AP-10K animals
    'heatmap': ('animal_2d_keypoint/topdown_heatmap/ap10k/'
                'td-hm_hrnet-w32_8xb64-210e_ap10k-256x256.py', 120, True),
    # RTMPose's RTMCCHead (SimCC) on WFLW faces
    'simcc': ('face_2d_keypoint/rtmpose/wflw/'
              'rtmpose-m_8xb64-60e_wflw-256x256.py', 120, True),
    # RLE regression on COCO
    'regression': ('body_2d_keypoint/topdown_regression/coco/'
                   'td-reg_res50_rle-8xb64-210e_coco-256x192.py', 120, True),
    # bottom-up Associative Embedding (StackedAEHead) on COCO
    'bottom-up': ('body_2d_keypoint/associative_embedding/coco/'
                  'ae_hrnet-w32_8xb24-300e_coco-512x512.py', 60, False),
    # one-stage YOLOX-Pose on the hourglass pyramid (YOLOXPAFPN neck)
    'pyramid': ('body_2d_keypoint/yoloxpose/coco/'
                'yoloxpose_s_8xb32-300e_coco-640.py', 80, False),
}


@pytest.mark.parametrize('family', list(FAMILIES))
def test_a_mixed_config_learns_on_real_samples(family, tmp_path):
    config, iters, has_acc = FAMILIES[family]
    mixed = tmp_path / 'mixed.py'
    write_mixed_config(f'mmpose::{config}', str(mixed), num_stacks=2,
                       feat_channels=32)
    curve = learns(str(mixed), str(tmp_path / 'run'), iters)
    assert 'why' not in curve, curve
    assert (curve['acc'] is not None) == has_acc, curve
    assert curve['learns'], describe(curve)


def test_the_criterion_reads_mmengines_log():
    def log(pairs):
        n = 10 * len(pairs)
        return '\n'.join(
            f'12/07 00:00:00 - mmengine - INFO - Iter(train) [{10 * i:>3}/{n}]'
            f'  lr: 1.0000e-03  eta: 0:00:01  time: 0.1  data_time: 0.0  '
            f'memory: 0  loss: {loss}  loss_kpt: {loss}'
            + ('' if acc is None else f'  acc_pose: {acc}')
            for i, (loss, acc) in enumerate(pairs, 1))
    curve = learning_curve(log([(0.5, 0.0), (0.3, 0.1), (0.2, 0.3),
                                (0.1, 0.6)]))
    assert curve == dict(loss=(0.5, 0.1), acc=(0.0, 0.6), learns=True,
                         loss_after_warmup=0.5)
    # the loss fell, the accuracy did not rise
    assert not learning_curve(log([(0.5, 0.3), (0.1, 0.3)]))['learns']
    # with an accuracy: the loss is taken from the end of the warm-up
    # (SimCC's rises during it), and must fall by half from there
    spike = [(0.04, 0.0), (0.6, 0.01), (2.0, 0.05), (0.5, 0.1), (0.3, 0.1),
             (0.2, 0.12), (0.1, 0.14), (0.05, 0.14)]
    curve = learning_curve(log(spike))
    assert curve['learns'] and curve['loss_after_warmup'] == 0.6  # it. 20
    assert not learning_curve(log(spike[:-2] + [(1.5, 0.14)] * 2))['learns']
    # no accuracy: a loss that fell by less than half of its first fails
    assert not learning_curve(log([(0.5, None), (0.3, None)]))['learns']
    # negative losses (RLE's log-likelihood): by half its size
    assert learning_curve(log([(-0.5, None), (-1.0, None)]))['learns']
    assert not learning_curve(log([(-0.5, None), (-0.6, None)]))['learns']
    assert learning_curve(log([(2.0e-3, None), (4.0e-4, None)]))['learns']
    assert describe(learning_curve(log([(0.5, 0.0), (0.1, 0.6)]))) == \
        'yes (loss 0.5 -> 0.1 (0.5 after the warm-up), acc 0.00 -> 0.60)'
    assert not learning_curve('no training lines')['learns']


def test_the_check_keeps_the_configs_training_but_its_augmentation(
        tmp_path):
    from mmengine.config import Config
    from hg_plugin.shipped_configs import resolve_config
    cfg = Config.fromfile(resolve_config(
        'mmpose::' + FAMILIES['simcc'][0]))
    out = learn_overrides(cfg, str(tmp_path), 100)
    kept = [t['type'] for t in out['train_dataloader']['dataset']['pipeline']]
    assert kept == ['LoadImage', 'GetBBoxCenterScale', 'TopdownAffine',
                    'GenerateTarget', 'PackPoseInputs']
    assert [(s['type'], s['end']) for s in out['param_scheduler']] == [
        ('LinearLR', 25)]
    assert out['train_cfg']['max_iters'] == 100
    assert 'optim_wrapper' not in out  # the config's own optimizer and lr

    def leaves(d):
        return [v for x in d.values() for v in (
            leaves(x) if isinstance(x, dict) else [x])]
    # the model as configured, but for pretrained weights (no downloads)
    assert leaves(out.get('model', {})) == [None] * len(leaves(
        out.get('model', {})))


def test_the_sweep_report_shows_the_learning_check_beside_the_zoos():
    """`--learn` rows get a "learns" column, `--learn-zoo` rows a "zoo from
    scratch" one beside it; rows of an earlier sweep show empty cells."""
    from mix_config import report
    stages = dict.fromkeys(['real train', 'val metric', 'test',
                            'Inferencer'], 'ok')
    rows = [dict(config='a.py', status='ok', stages=stages,
                 learns='yes (loss 0.5 -> 0.1)', learn_iters=120,
                 zoo_learns='no (loss 0.5 -> 0.4)'),
            dict(config='b.py', status='ok', stages=stages)]
    text = report(rows, select_all=False)
    assert '| Inferencer | learns | zoo from scratch |' in text
    assert '| `a.py` | ok | ok | ok | ok | ok | yes (120 it.: loss 0.5 -> ' \
        '0.1) | no (120 it.: loss 0.5 -> 0.4) |' in text
    assert '| `b.py` | ok | ok | ok | ok | ok |  |  |' in text
    assert 'for 120 iterations (each cell says)' in text
    assert 'random weights' in text
    rows.append(dict(rows[0], config='c.py', learn_iters=300))
    assert 'for 120 or 300 iterations' in report(rows, False)
    rows.pop()
    del rows[0]['zoo_learns']
    assert 'zoo from scratch' not in report(rows, False)
