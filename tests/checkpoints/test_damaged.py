"""An unreadable checkpoint is named with the newest readable one beside it
(hg_plugin.checkpoints.damaged); nothing is deleted."""
import os
import time

import torch

from hg_plugin.checkpoints.damaged import (damaged_checkpoint_message,
                                           newest_readable_beside, unreadable)


def save(path, value=1.0):
    torch.save({'state_dict': {'w': torch.full((64, 64), value)}}, path)


def test_empty_truncated_and_corrupted_files_are_unreadable(tmp_path):
    good = tmp_path / 'epoch_1.pth'
    save(good)
    assert unreadable(str(good)) is None
    data = good.read_bytes()
    (tmp_path / 'empty.pth').write_bytes(b'')
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # inside the tensor's bytes
    (tmp_path / 'flip.pth').write_bytes(bytes(flipped))
    assert unreadable(str(tmp_path / 'empty.pth')) == 'the file is empty'
    assert unreadable(str(tmp_path / 'cut.pth')).startswith(
        'truncated or damaged')
    assert 'fails its checksum' in unreadable(str(tmp_path / 'flip.pth'))
    # what it cannot judge is left to the loader
    assert unreadable(str(tmp_path / 'absent.pth')) is None


def test_the_message_names_the_newest_readable_checkpoint_beside(tmp_path):
    for n in (1, 2):
        save(tmp_path / f'epoch_{n}.pth', n)
        os.utime(tmp_path / f'epoch_{n}.pth', (time.time() - 10 + n,) * 2)
    full = (tmp_path / 'epoch_2.pth').read_bytes()
    (tmp_path / 'epoch_3.pth').write_bytes(full[:1000])
    bad = str(tmp_path / 'epoch_3.pth')
    assert newest_readable_beside(bad) == str(tmp_path / 'epoch_2.pth')
    line = damaged_checkpoint_message(bad, 'resume')
    assert line == (
        f'checkpoint {bad} cannot be read ({unreadable(bad)}); the newest '
        f'readable checkpoint beside it is {tmp_path / "epoch_2.pth"}: '
        f'resume from it with --resume {tmp_path / "epoch_2.pth"} (nothing '
        'was deleted)')
    assert 'test it instead: tools/test.py <config>' in \
        damaged_checkpoint_message(bad, 'test')
    assert (tmp_path / 'epoch_3.pth').read_bytes() == full[:1000]
    for n in (1, 2):
        (tmp_path / f'epoch_{n}.pth').write_bytes(b'')
    assert damaged_checkpoint_message(bad).endswith(
        'no readable checkpoint is beside it (nothing was deleted)')
    assert damaged_checkpoint_message(str(tmp_path / 'epoch_9.pth')) is None
