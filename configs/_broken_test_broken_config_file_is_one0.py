_base_ = ['./hg2_mpii_256.py']
model = dict(
