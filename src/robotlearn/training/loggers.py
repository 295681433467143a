"""Where training metrics go: TensorBoard (when installed) and Weights & Biases (when enabled)."""

from __future__ import annotations

import warnings
from pathlib import Path

from robotlearn.configs import config_to_dict


class Loggers:
    """TensorBoard (if installed) and wandb (if enabled); `log(step, scalars)` writes to both."""

    def __init__(self, args, output_dir: Path):
        self.tb = self.wandb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(output_dir / "tensorboard"))
        except ImportError:
            warnings.warn(
                "tensorboard is not installed (pip install 'robotlearn[train]'): no TensorBoard logs", stacklevel=2
            )
        if args.wandb.enable:
            try:
                import wandb
            except ImportError:
                warnings.warn(
                    "--wandb.enable=true but wandb is not installed (pip install wandb): skipping wandb", stacklevel=2
                )
            else:
                self.wandb = wandb.init(
                    project=args.wandb.project, config=config_to_dict(args), dir=str(output_dir), resume="allow"
                )

    def log(self, step: int, scalars: dict, prefix: str) -> None:
        for key, value in scalars.items():
            if self.tb is not None:
                self.tb.add_scalar(f"{prefix}/{key}", value, step)
        if self.wandb is not None:
            self.wandb.log({f"{prefix}/{k}": v for k, v in scalars.items()}, step=step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()
