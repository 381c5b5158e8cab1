from .convert import ConversionError, convert, strip_prefix

__all__ = ['ConversionError', 'convert', 'strip_prefix']
