import numpy as np
from mmengine.structures import InstanceData
from mmpose.evaluation.metrics import MpiiPCKAccuracy

from hg_plugin.evaluation import MpiiPCKhCurve


def results(n=40, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        gt = rng.uniform(0, 200, (1, 16, 2))
        head = rng.uniform(20, 40)
        pred = gt + rng.normal(0, 0.25 * head, gt.shape) - 1.0  # 0-based
        out.append(dict(pred_instances=dict(keypoints=pred),
                        gt_instances=dict(
                            keypoints=gt,
                            keypoints_visible=(rng.random((1, 16)) > 0.1
                                               ).astype(float),
                            head_size=np.array([head]))))
    return out


def evaluate(metric, samples):
    metric.dataset_meta = dict(dataset_name='mpii')
    metric.process([], samples)
    return metric.compute_metrics(metric.results)


def test_curve_agrees_with_mmposes_pckh_and_grows():
    samples = results()
    ours = evaluate(MpiiPCKhCurve(), samples)
    theirs = evaluate(MpiiPCKAccuracy(), samples)
    assert abs(ours['PCKh@0.5'] - theirs['PCK']) < 1e-6
    assert abs(ours['PCKh@0.1'] - theirs['PCK@0.1']) < 1e-4
    curve = [ours[f'PCKh@{t:g}'] for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)]
    assert curve == sorted(curve) and 0 < curve[0] < curve[-1] < 100
    assert 0 < ours['AUC'] < ours['PCKh@0.5']
