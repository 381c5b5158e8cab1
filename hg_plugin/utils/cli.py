"""What tools/train.py and tools/test.py share: loading the config, checking
config, data and checkpoint before a run, and one clear line for a failure
(the full traceback kept in a file)."""
import logging
import os
import os.path as osp
import sys
import traceback


def route_warnings_to_stdout() -> None:
    """Python warnings (MMPose emits several on every run) go to stdout with
    the rest of the log, so that stderr carries only an error line."""
    logging.captureWarnings(True)
    logger = logging.getLogger('py.warnings')
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.propagate = False


def run_reporting_errors(main, log_dir: str = 'work_dirs') -> None:
    """Run ``main()``; on an exception print ``error: <last line>`` to stderr
    (a DataLoader worker's error is unwrapped to its own last line), save
    the traceback to ``log_dir/last_error.log`` and exit with status 1."""
    try:
        main()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as e:  # noqa: B902 - everything gets one line
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        message = lines[-1] if lines else type(e).__name__
        if not message.startswith(type(e).__name__) and ':' not in \
                message.split(' ')[0]:
            message = f'{type(e).__name__}: {message}'
        os.makedirs(log_dir, exist_ok=True)
        log = osp.join(log_dir, 'last_error.log')
        with open(log, 'w') as f:
            traceback.print_exc(file=f)
        sys.exit(f'error: {message} (traceback: {log})')


def load_config(args):
    """``Config.fromfile`` (which imports hg_plugin through custom_imports),
    ``--cfg-options``, launcher, work dir, and the CPU adaptations."""
    from mmengine.config import Config

    from ..compat import adapt_cfg_to_device
    if not osp.isfile(args.config):
        sys.exit(f'error: config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    adapt_cfg_to_device(cfg)
    return cfg


def run_checked(cfg, config_path: str, loaders, action: str,
                checkpoint=None) -> None:
    """Check config and data (one line and exit on a problem), build the
    runner, check ``checkpoint`` against its model, then ``runner.<action>()``
    with errors reported as one line."""
    from mmengine.runner import Runner

    from .checkpoint_check import check_checkpoint
    from .config_check import check_config
    from .data_check import missing_data_message
    problem = check_config(cfg)
    if problem:
        sys.exit(f'error: {config_path}: {problem}')
    message = missing_data_message(cfg, loaders)
    if message:
        sys.exit(message)

    def run():
        runner = Runner.from_cfg(cfg)
        if checkpoint:
            problem = check_checkpoint(checkpoint, runner.model)
            if problem:
                sys.exit(f'error: {problem}')
        getattr(runner, action)()

    run_reporting_errors(run, cfg.work_dir)
