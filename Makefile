# The two commands of README.md. Each creates/reuses .venv (tools/setup_env.sh).
PY := .venv/bin/python

.PHONY: demo test venv
venv:
	@bash tools/setup_env.sh

demo: venv
	$(PY) tools/demo.py

# two test processes (pytest-xdist): most tests start MMPose's tools in
# subprocesses whose imports run on one core
test: venv
	$(PY) -m pytest -q -n auto --maxprocesses=4 tests
