from .convert import (BEARPAW_MPII_MEAN, ConversionError, convert,
                      data_preprocessor, strip_prefix)

__all__ = ['BEARPAW_MPII_MEAN', 'ConversionError', 'convert',
           'data_preprocessor', 'strip_prefix']
