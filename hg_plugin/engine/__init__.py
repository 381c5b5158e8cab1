from .amp_optim_wrapper import DeviceAmpOptimWrapper, amp_dtype_for
from .captured_train_step import (CapturedStepError, CapturedTrainStep,
                                  CapturedTrainStepHook)
from .channels_last_hook import ChannelsLastHook
from .checkpoint_globals_hook import AllowCheckpointGlobalsHook
from .compile_hook import CompileNetworkHook, compile_network
from .config_check_hook import ConfigCheckHook
from .exact_resume_hook import ExactResumeHook
from .last_checkpoint_hook import RepairLastCheckpointHook
from .nonfinite_loss_hook import StopOnNonFiniteLossHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook
from .work_dir_guard_hook import WorkDirError, WorkDirGuardHook

__all__ = [
    'AllowCheckpointGlobalsHook', 'CapturedStepError', 'CapturedTrainStep',
    'CapturedTrainStepHook', 'ChannelsLastHook', 'CompileNetworkHook',
    'ConfigCheckHook',
    'ExactResumeHook',
    'DeviceAmpOptimWrapper', 'RepairLastCheckpointHook',
    'StopOnNonFiniteLossHook', 'WeightsOnlyCheckpointHook', 'WorkDirError',
    'WorkDirGuardHook', 'amp_dtype_for', 'compile_network'
]
