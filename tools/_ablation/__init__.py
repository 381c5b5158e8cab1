"""tools/ablation.py's parts: the variants and their configs, the training
runs (cached), the statistics, the cost measurements and the report."""
