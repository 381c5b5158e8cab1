from .fold_bn import fold_batchnorm, fold_conv_bn

__all__ = ['fold_batchnorm', 'fold_conv_bn']
