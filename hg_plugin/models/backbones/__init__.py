from .stacked_hourglass import Hourglass, Residual, StackedHourglass

__all__ = ['Hourglass', 'Residual', 'StackedHourglass']
