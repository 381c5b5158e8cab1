"""tools/docs_numbers.py: every number README.md and docs take from a run is
what its committed result file gives (one source per number)."""
import subprocess
import sys

from tests.conftest import REPO

sys.path.insert(0, str(REPO / 'tools'))
import docs_numbers as numbers  # noqa: E402  (tools/ is not a package)


def test_every_marked_block_is_what_its_result_files_give():
    pages = numbers.rendered_pages()
    stale = [page for page, (old, new) in pages.items() if old != new]
    assert not stale, f'{stale}: run python tools/docs_numbers.py'
    # every block is used somewhere, and README holds the results
    text = ''.join(old for old, _ in pages.values())
    for name in numbers.BLOCKS:
        assert f'<!-- numbers:{name} -->' in text, name
    assert numbers.MARK.search(pages['README.md'][0])


def test_a_changed_number_is_put_back_from_its_file():
    readme = (REPO / 'README.md').read_text()
    block = next(m for m in numbers.MARK.finditer(readme)
                 if m[1] == 'results')
    wrong = readme.replace(block[2], block[2].replace('img/s', 'img/h', 1))
    assert wrong != readme
    assert numbers.render(wrong, {}) == numbers.render(readme, {}) == readme


def test_check_mode_names_stale_pages(tmp_path):
    r = subprocess.run([sys.executable, 'tools/docs_numbers.py', '--check'],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == 'differ: nothing', \
        r.stdout + r.stderr
