"""Reference layers and networks of /work/contract/NN_CONTRACT.md (docs: NN_CONTRACT) in PyTorch.

Owns the PyTorch side of the contract, shared by make-parity-fixtures.py and bench-pytorch.py:
spectral norm (own functional implementation), self-attention, BatchNorm2D with exactly the
contract's keys, the reference discriminator and generator with configurable widths, and the fixed
residual filters the detector can read beside RGB (NPR, SRM on luminance, SRM energy contrast).

State-dict keys equal the contract's key names (`block1.conv1.weight`, `.bias`, `.u`,
`attn.query.weight`, `attn.gamma`, `bn0.running_mean`, ...).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# Reference widths of the contract.
DISCRIMINATOR_WIDTHS = (32, 64, 128, 256)
GENERATOR_WIDTHS = (256, 128, 64, 32, 16)
Z_DIM = 128
LEAKY_SLOPE = 0.1
BN_EPS = 1e-5
BN_MOMENTUM = 0.1


def normalize(x):
    """x / max(||x||_2, 1e-12), as torch.nn.functional.normalize."""
    return x / torch.clamp(x.norm(), min=1e-12)


def spectral_normalized(weight, u, training):
    """W / sigma(W) with one power iteration in training (u updated in place), none in eval.

    Training: v = normalize(W_mat^T u); u = normalize(W_mat v); sigma = u^T W_mat v.
    Eval: v = normalize(W_mat^T u) from the stored u; sigma = u^T W_mat v.
    u and v are constants for autograd; the gradient flows through W in both W and sigma.
    """
    weight_mat = weight.reshape(weight.shape[0], -1)
    with torch.no_grad():
        v = normalize(torch.mv(weight_mat.t(), u))
        if training:
            u.copy_(normalize(torch.mv(weight_mat, v)))
        u_const = u.clone()
        v_const = v.clone()
    sigma = torch.dot(u_const, torch.mv(weight_mat, v_const))
    return weight / sigma


def init_u(out_features):
    """Seeded normal, normalized."""
    return normalize(torch.randn(out_features))


class SNConv2d(nn.Module):
    """Spectrally normalized Conv2D; keys weight (O, I, kH, kW), bias (O) if any, u (O)."""

    def __init__(self, in_channels, out_channels, kernel, stride=1, padding=0, bias=True):
        super().__init__()
        fan_in = in_channels * kernel * kernel
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel) / math.sqrt(fan_in))
        self.bias = nn.Parameter(0.1 * torch.randn(out_channels)) if bias else None
        self.register_buffer("u", init_u(out_channels))
        self.stride, self.padding = stride, padding

    def forward(self, x):
        weight = spectral_normalized(self.weight, self.u, self.training)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding)


class SNLinear(nn.Module):
    """Spectrally normalized Linear; keys weight (Out, In), bias (Out), u (Out)."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / math.sqrt(in_features))
        self.bias = nn.Parameter(0.1 * torch.randn(out_features)) if bias else None
        self.register_buffer("u", init_u(out_features))

    def forward(self, x):
        return F.linear(x, spectral_normalized(self.weight, self.u, self.training), self.bias)


class SelfAttention(nn.Module):
    """SAGAN/BigGAN attention: y = x + gamma * out(g · softmax(theta^T phi)^T)."""

    def __init__(self, channels, gamma=0.0):
        super().__init__()
        assert channels % 8 == 0, "SelfAttention needs channels divisible by 8"
        self.query = SNConv2d(channels, channels // 8, 1, bias=False)
        self.key = SNConv2d(channels, channels // 8, 1, bias=False)
        self.value = SNConv2d(channels, channels // 2, 1, bias=False)
        self.out = SNConv2d(channels // 2, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.full((1,), float(gamma)))

    def forward(self, x):
        n, c, h, w = x.shape
        theta = self.query(x).view(n, c // 8, h * w)
        phi = F.max_pool2d(self.key(x), 2).view(n, c // 8, h * w // 4)
        g = F.max_pool2d(self.value(x), 2).view(n, c // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)
        o = self.out(torch.bmm(g, beta.transpose(1, 2)).view(n, c // 2, h, w))
        return x + self.gamma * o


def npr_residual(x):
    """NPR (Tan et al. CVPR 2024): x - up(down(x)), 2x nearest both ways (each pixel minus the top-left
    pixel of its 2x2 block). H and W even."""
    down = F.interpolate(x, scale_factor=0.5, mode="nearest")
    return x - F.interpolate(down, scale_factor=2, mode="nearest")


LUMINANCE_WEIGHTS = (0.299, 0.587, 0.114)
SRM_KERNELS = (
    [[0, 0, 0, 0, 0], [0, -1, 2, -1, 0], [0, 2, -4, 2, 0], [0, -1, 2, -1, 0], [0, 0, 0, 0, 0]],
    [[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2], [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]],
    [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, -2, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
)
SRM_DIVISORS = (4, 12, 2)


def srm_residual(x):
    """Three SRM high-pass kernels (Fridrich & Kodovsky 2012, as in Zhou et al. CVPR 2018) on the
    luminance 0.299 R + 0.587 G + 0.114 B, reflect padding 2: (N, 3, H, W) -> (N, 3, H, W)."""
    weights = torch.tensor(LUMINANCE_WEIGHTS, dtype=x.dtype).view(1, 3, 1, 1)
    luminance = (x * weights).sum(dim=1, keepdim=True)
    kernels = torch.stack([torch.tensor(k, dtype=x.dtype) / d for k, d in zip(SRM_KERNELS, SRM_DIVISORS)])
    return F.conv2d(F.pad(luminance, (2, 2, 2, 2), mode="reflect"), kernels.unsqueeze(1))


class ConstrainedHighPass(nn.Module):
    """SRM's three kernels made learnable (Bayar & Stamm 2016's constraint as a reparametrization): the
    parameter v (3, 25) gives kernel k = n_k u / |u|, u = v_k - mean(v_k), n_k the norm of SRM's kernel k;
    on the luminance with reflect padding 2, as srm_residual. v starts as SRM's kernels."""

    def __init__(self):
        super().__init__()
        kernels = torch.stack([torch.tensor(k, dtype=torch.float32).flatten() / d
                               for k, d in zip(SRM_KERNELS, SRM_DIVISORS)])
        self.norms = kernels.norm(dim=1, keepdim=True)
        self.weight = nn.Parameter(kernels.clone())

    def kernels(self):
        u = self.weight - self.weight.mean(dim=1, keepdim=True)
        return self.norms * u / u.norm(dim=1, keepdim=True)

    def forward(self, x):
        weights = torch.tensor(LUMINANCE_WEIGHTS, dtype=x.dtype).view(1, 3, 1, 1)
        luminance = (x * weights).sum(dim=1, keepdim=True)
        return F.conv2d(F.pad(luminance, (2, 2, 2, 2), mode="reflect"), self.kernels().view(3, 1, 5, 5))


def srm_energy_contrast(x, local_radius=4, context_radius=32, eps=1.0 / 255 ** 2):
    """The SRM residuals' energy over a (2a+1)^2 box against over a (2b+1)^2 box, boxes clipped to the
    input (mean over the pixels inside), log ratio: (N, 3, H, W) -> (N, 3, H, W)."""
    energy = srm_residual(x) ** 2

    def box_mean(v, r):
        return F.avg_pool2d(v, 2 * r + 1, stride=1, padding=r, count_include_pad=False)

    return torch.log(box_mean(energy, local_radius) + eps) - torch.log(box_mean(energy, context_radius) + eps)


class BatchNorm2d(nn.Module):
    """BatchNorm2D with exactly the contract's keys (no num_batches_tracked); eps 1e-5, momentum 0.1."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        # PyTorch's batch_norm: normalization with the biased batch variance, running_var updated
        # with the unbiased one, running = (1 - momentum) * running + momentum * batch.
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=BN_MOMENTUM, eps=BN_EPS)


class DownBlock(nn.Module):
    """conv1 SNConv k3 s1 p1 + lrelu; conv2 SNConv k4 s2 p1 + lrelu (conv2 optional, for block4)."""

    def __init__(self, in_channels, out_channels, downsample=True):
        super().__init__()
        self.conv1 = SNConv2d(in_channels, out_channels, 3, 1, 1)
        self.conv2 = SNConv2d(out_channels, out_channels, 4, 2, 1) if downsample else None

    def forward(self, x):
        x = F.leaky_relu(self.conv1(x), LEAKY_SLOPE)
        if self.conv2 is not None:
            x = F.leaky_relu(self.conv2(x), LEAKY_SLOPE)
        return x


class Discriminator(nn.Module):
    """Reference discriminator; widths (w1, w2, w3, w4) = (32, 64, 128, 256) in the contract.

    Returns (patch logits (N, 1, H/8, W/8), global logit (N, 1)). Attention runs on block2's output
    (w2 channels, needs w2 % 8 == 0).
    """

    def __init__(self, widths=DISCRIMINATOR_WIDTHS, attention_gamma=0.0):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.block1 = DownBlock(3, w1)
        self.block2 = DownBlock(w1, w2)
        self.attn = SelfAttention(w2, attention_gamma)
        self.block3 = DownBlock(w2, w3)
        self.block4 = DownBlock(w3, w4, downsample=False)
        self.patch_logits = SNConv2d(w4, 1, 1, 1, 0)
        self.global_logit = SNLinear(w4, 1)

    def forward(self, x):
        h = self.block4(self.block3(self.attn(self.block2(self.block1(x)))))
        return self.patch_logits(h), self.global_logit(h.mean(dim=(2, 3)))


class UpBlock(nn.Module):
    """nearest 2x upsample, SNConv k3 p1, BN, ReLU."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = SNConv2d(in_channels, out_channels, 3, 1, 1)
        self.bn = BatchNorm2d(out_channels)

    def forward(self, x):
        return F.relu(self.bn(self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))))


class Generator(nn.Module):
    """Reference generator; widths (c0..c4) = (256, 128, 64, 32, 16), z_dim 128 in the contract.

    fc SNLinear z_dim -> c0*4*4, reshape (c0, 4, 4), bn0, relu; up1..up4 to c1..c4 (8..64 px);
    attention on up3's output (c3 channels, needs c3 % 8 == 0); out SNConv c4 -> 3 k3 p1; tanh.
    """

    def __init__(self, widths=GENERATOR_WIDTHS, z_dim=Z_DIM, attention_gamma=0.0):
        super().__init__()
        c0, c1, c2, c3, c4 = widths
        self.c0 = c0
        self.fc = SNLinear(z_dim, c0 * 4 * 4)
        self.bn0 = BatchNorm2d(c0)
        self.up1 = UpBlock(c0, c1)
        self.up2 = UpBlock(c1, c2)
        self.up3 = UpBlock(c2, c3)
        self.attn = SelfAttention(c3, attention_gamma)
        self.up4 = UpBlock(c3, c4)
        self.out = SNConv2d(c4, 3, 3, 1, 1)

    def forward(self, z):
        h = F.relu(self.bn0(self.fc(z).view(z.shape[0], self.c0, 4, 4)))
        h = self.attn(self.up3(self.up2(self.up1(h))))
        return torch.tanh(self.out(self.up4(h)))


def hinge_loss(patch, global_logit, labels):
    """Discriminator hinge loss: mean(relu(1 - y*patch)) + mean(relu(1 - y*global)), y = +1 real, -1 fake."""
    y_patch = labels.view(-1, 1, 1, 1)
    y_global = labels.view(-1, 1)
    return F.relu(1 - y_patch * patch).mean() + F.relu(1 - y_global * global_logit).mean()
