"""What changed between two configs, in the keys that shape a run."""
from mmengine.config import Config

from hg_plugin.checks import config_changes, describe_changes


def test_changes_are_found_in_configs_and_lists():
    old = Config(dict(train_dataloader=dict(batch_size=2, dataset=dict(
        pipeline=[dict(type='A', k=30), dict(type='B')])),
        optim_wrapper=dict(optimizer=dict(lr=0.1)), work_dir='a'))
    new = Config(dict(train_dataloader=dict(batch_size=1, dataset=dict(
        pipeline=[dict(type='A', k=40)])),
        optim_wrapper=dict(optimizer=dict(lr=0.1)), work_dir='b'))
    changes = config_changes(old, new)
    assert changes == [
        ('train_dataloader.batch_size', 2, 1),
        ('train_dataloader.dataset.pipeline[0].k', 30, 40),
        ('train_dataloader.dataset.pipeline[1].type', 'B', None)]
    assert describe_changes(changes, most=2) == (
        "train_dataloader.batch_size 2 -> 1, "
        "train_dataloader.dataset.pipeline[0].k 30 -> 40 and 1 more")


def test_text_round_trip_is_no_change():
    cfg = Config(dict(model=dict(size=(256, 192), layers=[1, 2])))
    again = Config.fromstring(cfg.pretty_text, file_format='.py')
    assert config_changes(cfg, again) == []
