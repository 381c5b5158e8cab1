"""tools/mix_config.py's sweep over MMPose's shipped configs: which real
samples each dataset family has (:mod:`.samples`), and the real-image
stages through MMPose's own tools (:mod:`.real`)."""
