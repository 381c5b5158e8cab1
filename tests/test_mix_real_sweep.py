"""Mixed configs as a user runs them: through MMPose's own tools/train.py
(the config's whole training pipeline on real images, validation with its
own metric), tools/test.py on the checkpoint, and MMPoseInferencer - one
config per head family (the full sweep is `tools/mix_config.py --sweep
--real`, docs/mix_sweep.md)."""
import json
import subprocess
import sys

import pytest

import hg_plugin  # noqa: F401  (registers the modules)
from hg_plugin.mix import write_mixed_config
from tests.conftest import REPO

sys.path.insert(0, str(REPO / 'tools'))
from _sweep.real import STAGES, real_stages  # noqa: E402

FAMILIES = {
    # heatmaps (StackedHeatmapHead), AP-10K animals, COCO metric
    'heatmap': 'animal_2d_keypoint/topdown_heatmap/ap10k/'
               'td-hm_hrnet-w32_8xb64-210e_ap10k-256x256.py',
    # RTMPose (RTMCCHead, SimCC) with its Albumentation pipeline; faces, NME
    'rtmpose': 'face_2d_keypoint/rtmpose/wflw/'
               'rtmpose-m_8xb64-60e_wflw-256x256.py',
    # bottom-up: Associative Embedding (MMPose ships no train pipeline)
    'ae': 'body_2d_keypoint/associative_embedding/coco/'
          'ae_hrnet-w32_8xb24-300e_coco-512x512.py',
}
# (regression: the command test below; integral regression's whole-model
# init, AE's pipeline rules and DEKR's config: tests/test_mix.py; DEKR and
# CID through MMPose's tools, minutes each at 512 px on two cores: the full
# sweep, docs/mix_sweep.md)


@pytest.mark.parametrize('family', list(FAMILIES))
def test_mixed_config_through_mmpose_tools_on_real_images(family, tmp_path):
    mixed = tmp_path / 'mixed.py'
    changes = write_mixed_config(f'mmpose::{FAMILIES[family]}', str(mixed),
                                 num_stacks=2, feat_channels=32)
    stages = real_stages(str(mixed), str(tmp_path / 'run'))
    assert list(stages) == list(STAGES), stages
    assert not any(v.startswith(('failed', 'no samples'))
                   for v in stages.values()), stages
    assert stages['val metric'].split()[0] in stages['test']
    assert stages['Inferencer'].startswith('ok (')
    if family == 'ae':
        assert any('StackedAEHead' in c for c in changes)
    if family == 'dekr':  # the tool names the download; the sweep skips it
        assert any('model.head.rescore_cfg.init_cfg loads pretrained' in c
                   for c in changes)
        log = (tmp_path / 'run' / 'train.log').read_text()
        assert 'loss/heatmap: ' in log and 'loss/displacement: ' in log


def test_the_sweep_command_writes_its_stage_table(tmp_path):
    """`tools/mix_config.py --sweep --real` on one config (regression on
    hands): the report has a column per stage and the real counts."""
    report = tmp_path / 'sweep.md'
    r = subprocess.run(
        [sys.executable, 'tools/mix_config.py', '--sweep', '--real',
         '--only', 'td-reg_res50_8xb64-210e_onehand10k', '--feat-channels',
         '32',
         '--work-dir', str(tmp_path / 'runs'), '--report', str(report)],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = report.read_text()
    assert '| config | build + synthetic step | real train | val metric | ' \
        'test | Inferencer |' in text
    assert '1 passed every stage' in text
    rows = json.loads(report.with_suffix('.json').read_text())
    assert rows[0]['stages']['Inferencer'].startswith('ok')
