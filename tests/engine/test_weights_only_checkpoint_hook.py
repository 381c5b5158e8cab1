"""WeightsOnlyCheckpointHook: what MMEngine saves besides tensors survives a
weights-only round trip exactly."""
import io
import pickle
from collections import Counter, OrderedDict

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from hg_plugin.engine import WeightsOnlyCheckpointHook


def test_round_trip_through_stock_weights_only_load():
    buf = HistoryBuffer(max_length=7)
    for v in (0.5, 0.25):
        buf.update(v)
    dataset_meta = dict(sigmas=np.array([0.1, 0.2], np.float32),
                        keypoint_colors=np.array([[255, 0, 0]], np.uint8),
                        names=np.array(['head', 'neck']),
                        flip_indices=[1, 0], num_keypoints=2)
    checkpoint = dict(
        state_dict=OrderedDict(w=torch.ones(2)),
        meta=dict(epoch=3, seed=np.int64(5), dataset_meta=dataset_meta,
                  hook_msgs=dict(best_score=np.float64(0.75)),
                  dtype=np.dtype('int16')),
        message_hub=dict(log_scalars=OrderedDict(loss=buf),
                         runtime_info=OrderedDict(iter=9)),
        param_schedulers=[dict(milestones=Counter([170, 200]))])
    original = pickle.dumps(dataset_meta)
    hook = WeightsOnlyCheckpointHook()
    hook.before_save_checkpoint(None, checkpoint)
    assert pickle.dumps(dataset_meta) == original  # the live one untouched
    f = io.BytesIO()
    torch.save(checkpoint, f)
    f.seek(0)
    loaded = torch.load(f)  # torch's default: weights_only=True
    assert 'dataset_meta' not in loaded['meta']  # init_model: from config
    hook.after_load_checkpoint(None, loaded)
    meta = loaded['meta']
    assert pickle.dumps(meta['dataset_meta']) == original
    assert type(meta['seed']) is np.int64 and meta['seed'] == 5
    assert type(meta['hook_msgs']['best_score']) is np.float64
    assert meta['dtype'] == np.dtype('int16')
    restored = loaded['message_hub']['log_scalars']['loss']
    assert isinstance(restored, HistoryBuffer)
    assert restored.max_length == 7 and restored.mean() == buf.mean()
    assert restored.current() == 0.25
    assert loaded['param_schedulers'][0]['milestones'] == Counter([170, 200])


def test_mmpose_loaders_read_the_trained_metainfo(tmp_path):
    """MMPose's ``init_model`` (and the Inferencer, through the same
    ``CheckpointLoader``) take the dataset metainfo from the checkpoint, not
    from a fallback (runtime fix ``checkpoint_dataset_meta``)."""
    from mmengine.runner.checkpoint import _load_checkpoint
    from mmpose.apis import init_model

    import hg_plugin  # noqa: F401  (applies the runtime fixes)
    from hg_plugin import config_path

    meta = dict(dataset_name='marker', sigmas=np.array([0.1, 0.2]),
                flip_indices=[1, 0], num_keypoints=2)
    model = init_model(config_path('hg1_mpii_256'), device='cpu')
    checkpoint = dict(state_dict=model.state_dict(),
                      meta=dict(dataset_meta=meta))
    WeightsOnlyCheckpointHook().before_save_checkpoint(None, checkpoint)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(checkpoint, path)
    loaded = _load_checkpoint(path, map_location='cpu')['meta']
    assert 'dataset_meta_encoded' not in loaded
    assert pickle.dumps(loaded['dataset_meta']) == pickle.dumps(meta)
    model = init_model(config_path('hg1_mpii_256'), path, device='cpu')
    assert model.dataset_meta['dataset_name'] == 'marker'
    assert isinstance(model.dataset_meta['sigmas'], np.ndarray)
