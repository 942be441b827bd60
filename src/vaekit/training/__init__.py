"""Training: the loop (``trainer``), batch sources (``batches``), checkpoints (``checkpoint``), the
resume state (``resume``) and the optional TensorBoard writer (``tensorboard``)."""
