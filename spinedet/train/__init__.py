"""Training: data, augmentation, the loop, checkpoints and distributed data parallel."""
