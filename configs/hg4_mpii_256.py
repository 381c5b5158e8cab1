# Stacked Hourglass with 4 stacks on MPII, 256x256: hg8_mpii_256.py with N=4
# (the paper compares 2-, 4- and 8-stack networks in its ablations).
_base_ = ['./hg8_mpii_256.py']

num_stacks = 4
model = dict(
    backbone=dict(num_stacks=num_stacks), head=dict(num_stacks=num_stacks))
