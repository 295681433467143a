"""Training utilities: resumable data order, optimizers and LR schedules, EMA, checkpoints."""
