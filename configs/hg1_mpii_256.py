# Stacked Hourglass with 1 stack on MPII, 256x256: hg8_mpii_256.py with N=1
# (the paper compares 2-, 4- and 8-stack networks in its ablations).
_base_ = ['./hg8_mpii_256.py']

num_stacks = 1
model = dict(
    backbone=dict(num_stacks=num_stacks), head=dict(num_stacks=num_stacks))
