# hg_plugin for any MMPose config: import the plugin, and its run guards -
# registered hooks, so MMPose's own tools run them too. A config adds them to
# its runtime's hooks:
#     _base_ = [<a runtime or zoo config>, '<this folder>/hg_run_guards.py']
#     custom_hooks = [*_base_.custom_hooks, *_base_.hg_run_guards]
custom_imports = dict(imports=['hg_plugin'], allow_failed_imports=False)
hg_run_guards = [
    # backbone, head, codec and data agree; annotation records are valid
    dict(type='ConfigCheckHook'),
    # stop at the first NaN/Inf loss (naming iteration and stack), before the
    # checkpoint hook could save diverged weights
    dict(type='StopOnNonFiniteLossHook'),
    # before resuming, repair a last_checkpoint file a kill left empty or
    # dangling
    dict(type='RepairLastCheckpointHook'),
    # no fresh run over an earlier run's checkpoints, no --resume from nothing
    dict(type='WorkDirGuardHook'),
    # resume with the run's own seed (exact resume)
    dict(type='ExactResumeHook'),
    # checkpoints that torch >= 2.6 loads weights-only with nothing
    # allowlisted (MMPose's publish_model.py, plain torch.load)
    dict(type='WeightsOnlyCheckpointHook')
]
