from .mpii_pckh_curve import MpiiPCKhCurve, pckh_curve

__all__ = ['MpiiPCKhCurve', 'pckh_curve']
