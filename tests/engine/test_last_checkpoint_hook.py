"""RepairLastCheckpointHook: --resume after a kill that left
work_dir/last_checkpoint empty or dangling."""
from types import SimpleNamespace

from hg_plugin.engine import RepairLastCheckpointHook


def test_empty_or_dangling_last_checkpoint_names_the_newest(tmp_path):
    for name in ('iter_2.pth', 'iter_10.pth', 'best_PCK_iter_12.pth'):
        (tmp_path / name).write_bytes(b'x')
    marker = tmp_path / 'last_checkpoint'
    runner = SimpleNamespace(work_dir=str(tmp_path))
    hook = RepairLastCheckpointHook()
    marker.write_text('')
    hook.before_run(runner)
    assert marker.read_text() == str(tmp_path / 'iter_10.pth')
    marker.write_text(str(tmp_path / 'iter_11.pth'))  # never landed
    hook.before_run(runner)
    assert marker.read_text() == str(tmp_path / 'iter_10.pth')
    marker.write_text(str(tmp_path / 'iter_2.pth'))  # valid: left as it is
    hook.before_run(runner)
    assert marker.read_text() == str(tmp_path / 'iter_2.pth')


def test_nothing_to_repair_changes_nothing(tmp_path):
    runner = SimpleNamespace(work_dir=str(tmp_path))
    RepairLastCheckpointHook().before_run(runner)  # no marker
    assert list(tmp_path.iterdir()) == []
    (tmp_path / 'last_checkpoint').write_text('')  # and no checkpoint
    RepairLastCheckpointHook().before_run(runner)
    assert (tmp_path / 'last_checkpoint').read_text() == ''
