"""hg_plugin.mix and tools/mix_config.py: the hourglass swapped into
MMPose's own shipped configs, each trained one synthetic step."""
import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from hg_plugin.mix import MixError, mix_overrides, write_mixed_config
from hg_plugin.checks import check_config
from tests.conftest import REPO

UNSUPPORTED_FAMILIES = ('ED-Pose', )


def test_sweep_one_config_per_family(tmp_path):
    """The default sweep: one shipped config per distinct (dataset, codec,
    head, neck), chosen by code; every one trains a step or is a known
    multi-scale/detector family listed with its reason."""
    report = tmp_path / 'sweep.md'
    r = subprocess.run([sys.executable, 'tools/mix_config.py', '--sweep',
                        '--feat-channels', '16', '--report', report],
                       cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-3000:]
    rows = json.loads(report.with_suffix('.json').read_text())
    families = {tuple(row['family']) for row in rows if 'family' in row}
    assert len(families) == len([row for row in rows if 'family' in row])
    ok = [row for row in rows if row['status'] == 'ok']
    assert len(ok) >= 70 and not [r for r in rows if r['status'] == 'failed']
    for row in rows:
        if row['status'] == 'unsupported':
            assert any(f in row['why'] for f in UNSUPPORTED_FAMILIES), row
    heads = {row['family'][2] for row in ok}
    assert {'HeatmapHead', 'RTMCCHead', 'SimCCHead', 'RLEHead',
            'RegressionHead', 'DSNTHead', 'CPMHead', 'MSPNHead',
            'ViPNASHead', 'AssociativeEmbeddingHead', 'DEKRHead', 'CIDHead',
            'VisPredictHead', 'YOLOXPoseHead', 'RTMOHead',
            'DWPoseDistiller'} <= heads
    assert f'{len(rows)} configs - {len(ok)} trained' in report.read_text()


def test_written_config_inherits_and_passes_the_checks(tmp_path):
    out = tmp_path / 'hg2_dekr.py'
    base = ('mmpose::body_2d_keypoint/dekr/coco/'
            'dekr_hrnet-w32_8xb10-140e_coco-512x512.py')
    changes = write_mixed_config(base, str(out), num_stacks=2,
                                 feat_channels=64)
    text = out.read_text()
    assert f"_base_ = ['{base}']" in text
    assert any('FeatureMapProcessor removed' in c for c in changes)
    cfg = Config.fromfile(str(out))
    assert cfg.model.neck is None and cfg.model.head.in_channels == 64
    assert cfg.model.backbone.out_type == 'features'
    assert check_config(cfg) is None
    # the same config written by hand without the tool's fixes
    cfg.model.neck = dict(type='FeatureMapProcessor', concat=True)
    assert 'set model.neck=None' in check_config(cfg)


def test_cli_writes_and_refuses_in_one_line(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, 'tools/mix_config.py',
                               *map(str, args)], cwd=REPO,
                              capture_output=True, text=True, timeout=300)
    r = cli('mmpose::face_2d_keypoint/rtmpose/wflw/'
            'rtmpose-m_8xb64-60e_wflw-256x256.py', '-o', tmp_path / 'a.py')
    assert r.returncode == 0, r.stderr
    assert 'in_featuremap_size (64, 64) (input/4)' in r.stdout
    r = cli('mmpose::body_2d_keypoint/rtmpose/coco/'
            'rtmpose-s_8xb256-420e_coco-256x192.py', '--head', 'stacked',
            '-o', tmp_path / 'b.py')
    assert r.returncode != 0 and not (tmp_path / 'b.py').exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        'error: mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_'
        'coco-256x192.py: --head stacked predicts one heatmap per keypoint')


PYRAMID_CONFIGS = {
    'mmpose::body_2d_keypoint/yoloxpose/coco/yoloxpose_s_8xb32-300e_coco-'
    '640.py': 'YOLOXPAFPN',
    'mmpose::body_2d_keypoint/rtmo/coco/rtmo-s_8xb32-600e_coco-640x640.py':
    'HybridEncoder',
    'mmpose::wholebody_2d_keypoint/rtmpose/cocktail14/rtmw-m_8xb1024-270e_'
    'cocktail14-256x192.py': 'CSPNeXtPAFPN',
}


@pytest.mark.parametrize('config,neck', PYRAMID_CONFIGS.items())
def test_pyramid_necks_get_the_hourglass_pyramid(config, neck):
    """RTMO, YOLOX-Pose and RTMW: the hourglass's own pyramid at the
    strides and channels the neck took from the replaced backbone; neck,
    head and codec unchanged; one synthetic step trains (through the
    runner's message hub, as the batch resize and the heads read it)."""
    from hg_plugin.mix import mixed_config, train_step_check
    base = Config.fromfile(config.replace(
        'mmpose::', str(__import__('mmpose').__path__[0]) +
        '/.mim/configs/'))
    overrides, changes = mix_overrides(config, feat_channels=16)
    bb = overrides['model']['backbone']
    assert (bb['out_type'], bb['out_strides'], bb['depth']) == (
        'pyramid', (8, 16, 32), 3)
    assert bb['out_channels'] == list(base.model.neck.in_channels)
    assert 'neck' not in overrides['model'] and \
        'head' not in overrides['model']
    assert any(f'{neck} and head' in c for c in changes)
    cfg = mixed_config(config, feat_channels=16)
    assert cfg.model.neck.type == neck and check_config(cfg) is None
    losses = train_step_check(cfg)
    assert losses and all(v == v for v in losses.values())  # finite


def test_dwpose_mixes_its_student_beside_and_keeps_the_teacher(tmp_path):
    """DWPose's distiller: the student config is mixed and written beside
    (the hourglass's stride-32 level at the head's 768 channels, what
    RTMCCHead and the feature loss read), the teacher config resolved in
    the installed MMPose, its pretrained download named; one synthetic step
    trains the head, feature and logit losses."""
    from hg_plugin.mix import train_step_check
    out = tmp_path / 'dw.py'
    changes = write_mixed_config(
        'mmpose::wholebody_2d_keypoint/dwpose/coco-wholebody/s1_dis/'
        'dwpose_l_dis_m_coco-256x192.py', str(out), feat_channels=16)
    student = tmp_path / 'dw_student.py'
    assert student.is_file()
    cfg = Config.fromfile(str(out))
    assert cfg.model.type == 'DWPoseDistiller'
    assert cfg.model.student_cfg == str(student)
    assert osp.isfile(cfg.model.teacher_cfg)
    bb = Config.fromfile(str(student)).model.backbone
    assert (bb.type, bb.out_type, bb.out_strides, bb.out_channels) == (
        'StackedHourglass', 'pyramid', (32, ), (768, ))
    assert any('a download when the run starts' in c for c in changes)
    losses = train_step_check(cfg)
    assert {'loss_kpt', 'loss_fea', 'loss_logit'} <= set(losses)
    assert all(v == v for v in losses.values())  # finite


def test_a_pyramid_the_batch_sizes_cannot_halve_is_one_line():
    cfg = Config.fromfile(str(__import__('mmpose').__path__[0]) +
                          '/.mim/configs/body_2d_keypoint/yoloxpose/coco/'
                          'yoloxpose_s_8xb32-300e_coco-640.py')
    cfg.model.data_preprocessor.batch_augments[0].size_divisor = 16
    with pytest.raises(MixError, match=r'needs an hourglass of depth 3, '
                       r'whose inputs must be multiples of 32; this config '
                       r'feeds sizes in multiples of \[640, 640, 16\]'):
        mix_overrides(cfg)


def test_stacked_head_refuses_what_is_not_a_heatmap_per_keypoint():
    with pytest.raises(MixError, match='use --head keep'):
        mix_overrides('mmpose::body_2d_keypoint/rtmpose/coco/'
                      'rtmpose-s_8xb256-420e_coco-256x192.py', head='stacked')
    overrides, changes = mix_overrides(
        'mmpose::body_2d_keypoint/topdown_heatmap/coco/'
        'td-hm_cpm_8xb32-210e_coco-384x288.py', num_stacks=3)
    # CPM predicts at 1/8; 288x384 halves 3 times from 1/4
    assert overrides['model']['backbone']['depth'] == 3
    assert overrides['model']['head']['decoder']['heatmap_size'] == (72, 96)
    assert 'train_dataloader' in overrides  # targets at the new size


def test_the_replaced_network_s_own_weights_are_dropped():
    """A whole-model init (the integral-regression configs load a ResNet-50
    COCO checkpoint by URL into the pose model) and load_from belong to the
    network the hourglass replaces: removed, and said."""
    base = ('mmpose::body_2d_keypoint/integral_regression/coco/'
            'ipr_res50_dsnt-8xb64-210e_coco-256x256.py')
    overrides, changes = mix_overrides(base)
    assert overrides['model']['init_cfg'] is None
    assert any(c.startswith('model.init_cfg removed') and 'td-hm_res50' in c
               for c in changes)
    from hg_plugin.mix import load
    cfg = load('mmpose::body_2d_keypoint/topdown_heatmap/mpii/'
               'td-hm_res50_8xb64-210e_mpii-256x256.py')
    cfg.load_from = 'resnet.pth'
    overrides, changes = mix_overrides(cfg)
    assert overrides['load_from'] is None
    assert any(c.startswith('load_from removed: resnet.pth') for c in changes)


def test_associative_embedding_gets_a_head_and_pipeline_that_train():
    """MMPose's AE config ships `train_pipeline = []` and an AE head that
    MMPose 1.3 cannot train: the mix uses StackedAEHead (34 maps per stack)
    and hg_plugin's AE pipeline ending in PackAEInputs."""
    from hg_plugin.mix import mixed_config, train_step_check
    cfg = mixed_config('mmpose::body_2d_keypoint/associative_embedding/coco/'
                       'ae_hrnet-w32_8xb24-300e_coco-512x512.py',
                       feat_channels=16)
    assert cfg.model.head.type == 'StackedAEHead'
    assert cfg.model.backbone.num_keypoints == 34
    pipeline = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline[-3:] == ['GenerateTarget', 'BottomupGetHeatmapMask',
                             'PackAEInputs']
    losses = train_step_check(cfg)
    assert {'loss_kpt_stack1', 'loss_pull_stack1'} <= set(losses)


def test_nme_gets_the_normalising_keypoints_mmpose_lacks():
    """MMPose's own 300W-LP config cannot validate (its NME knows no eye
    corners for '300wlp'); the mixed one names the indices it adds, and a
    dataset MMPose knows is left alone."""
    wlp = ('mmpose::face_2d_keypoint/topdown_heatmap/300wlp/'
           'td-hm_hrnetv2-w18_8xb64-60e_300wlp-256x256.py')
    overrides, changes = mix_overrides(wlp)
    assert overrides['val_evaluator']['keypoint_indices'] == [36, 45]
    assert overrides['test_evaluator']['keypoint_indices'] == [36, 45]
    assert any('NME keypoint_indices=[36, 45]' in c for c in changes)
    from mmpose.evaluation.metrics import NME
    assert '300wlp' not in NME.DEFAULT_KEYPOINT_INDICES  # else drop the rule
    overrides, _ = mix_overrides(
        'mmpose::face_2d_keypoint/topdown_heatmap/300w/'
        'td-hm_hrnetv2-w18_8xb64-60e_300w-256x256.py')
    assert 'val_evaluator' not in overrides


def test_the_sweep_merges_an_earlier_one(tmp_path):
    """``--merge``: the earlier sweep's rows are kept where this run did not
    re-run their config, and the report says which hg_plugin version
    measured how many rows."""
    earlier = [dict(config='b.py', status='ok', stages={
        'real train': 'ok', 'val metric': 'PCK 0.0', 'test': 'PCK 0.0',
        'Inferencer': 'ok (1 people drawn)'}),
        dict(config='a.py', status='unsupported', why='x', version='0.3.0')]
    (tmp_path / 'old.json').write_text(json.dumps(earlier))
    report = tmp_path / 'new.md'
    r = subprocess.run(
        [sys.executable, 'tools/mix_config.py', '--sweep', '--real',
         '--only', 'no_such_config', '--merge', str(tmp_path / 'old.json'),
         '--report', str(report)], cwd=REPO, capture_output=True, text=True,
        timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(report.with_suffix('.json').read_text())
    assert [row['config'] for row in rows] == ['a.py', 'b.py']
    text = report.read_text()
    assert ('Rows by the hg_plugin version that measured them: 0.3.0: 1, '
            'before 0.3 (not recorded): 1.') in text
    assert '2 configs - 1 passed every stage' in text
