from .stagewise_topdown import StagewiseTopdownPoseEstimator

__all__ = ['StagewiseTopdownPoseEstimator']
