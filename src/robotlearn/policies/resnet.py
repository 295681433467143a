"""ResNet-18 image backbone (He et al. 2015, https://arxiv.org/abs/1512.03385), written out in plain PyTorch.

Only the convolutional trunk is built (no average pool, no classifier): `forward` maps images
(B, 3, H, W) to a feature map (B, 512, ceil(H/32), ceil(W/32)) (512 = 8 x `width`). Both policies use it: ACT flattens
the feature map into transformer tokens, Diffusion Policy pools it into spatial-softmax keypoints.

The parameter names follow torchvision's `resnet18` (conv1, bn1, layer1.0.conv1, ...), so
ImageNet weights exported from torchvision to a safetensors file load directly:

    import torchvision, safetensors.torch
    safetensors.torch.save_file(torchvision.models.resnet18(weights="IMAGENET1K_V1").state_dict(), "r18.safetensors")

and then `--policy.pretrained_backbone_path=r18.safetensors`. With `norm="group"` (what Diffusion
Policy uses, since BatchNorm statistics drift when an EMA of the weights is used) the BatchNorm
layers become GroupNorm(C/16 groups); their affine weights still load from the BatchNorm entries.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class ResNetWeightsError(ValueError):
    """A pretrained-backbone safetensors file is missing or does not match ResNet-18."""


def _norm(channels: int, kind: str) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(num_groups=channels // 16, num_channels=channels)
    raise ValueError(f"ResNet norm must be 'batch' or 'group', got {kind!r}")


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection; `downsample` matches shapes when stride > 1."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, norm: str):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = _norm(out_ch, norm)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, stride=1, padding=1, bias=False)
        self.bn2 = _norm(out_ch, norm)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), _norm(out_ch, norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """ResNet-18 trunk: images (B, 3, H, W), already normalized -> features (B, 8*width, H/32, W/32).

    Args:
        norm: "batch" (as in the paper) or "group" (GroupNorm with 16 channels per group).
        width: channels of the first stage (64 in the paper; the stages have width, 2x, 4x, 8x).
            The same 18 layers with width 16 or 32 cost about 1/12 or 1/3.5 of the compute, which
            is what makes image policies trainable on a laptop CPU; pretrained weights need 64.
    """

    def __init__(self, norm: str = "batch", width: int = 64):
        super().__init__()
        if width < 16 or width % 16:
            raise ValueError(f"ResNet-18 width must be a positive multiple of 16, got {width}")
        self.out_channels = 8 * width
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = _norm(width, norm)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        widths, in_ch = (width, 2 * width, 4 * width, 8 * width), width
        for i, stage_width in enumerate(widths):
            stride = 1 if i == 0 else 2
            layer = nn.Sequential(
                BasicBlock(in_ch, stage_width, stride, norm), BasicBlock(stage_width, stage_width, 1, norm)
            )
            setattr(self, f"layer{i + 1}", layer)
            in_ch = stage_width
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def load_pretrained(self, path: str | Path) -> None:
        """Load torchvision-named ResNet-18 weights from a safetensors file (fc.* entries are ignored).

        Raises ResNetWeightsError if the file is missing or a tensor is absent or has the wrong shape.
        """
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_file():
            raise ResNetWeightsError(f"{path}: pretrained backbone file not found (expected a .safetensors file)")
        weights = {k: v for k, v in load_file(str(path)).items() if not k.startswith("fc.")}
        own = self.state_dict()
        for name, tensor in own.items():
            if name not in weights:
                raise ResNetWeightsError(f"{path}: missing tensor {name!r}; export torchvision resnet18().state_dict()")
            if weights[name].shape != tensor.shape:
                raise ResNetWeightsError(
                    f"{path}: tensor {name!r} has shape {tuple(weights[name].shape)}, expected {tuple(tensor.shape)}"
                )
        # GroupNorm has no running statistics: drop BatchNorm's running_mean/var/num_batches_tracked.
        self.load_state_dict({k: v for k, v in weights.items() if k in own})
