from .nonfinite_loss_hook import StopOnNonFiniteLossHook

__all__ = ['StopOnNonFiniteLossHook']
