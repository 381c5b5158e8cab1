from .data_check import find_missing_data, missing_data_message

__all__ = ['find_missing_data', 'missing_data_message']
