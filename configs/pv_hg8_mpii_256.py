# hg8_mpii_256.py for weights converted from princeton-vl/pytorch_stacked_
# hourglass (tools/convert_weights.py pv ...). That code feeds RGB images
# scaled to [0, 1] with no mean/std normalisation, so the data preprocessor
# must do the same; everything else is the same network and evaluation.
_base_ = ['./hg8_mpii_256.py']

model = dict(
    data_preprocessor=dict(mean=[0., 0., 0.], std=[255., 255., 255.],
                           bgr_to_rgb=True))
