#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures of NN_CONTRACT.md into Tests/NeuralNetTests/Fixtures/.

Owns the reference numbers the Swift engine is tested against: it builds each contract layer or
network (Scripts/nn_reference.py), runs forward, backward and one Adam step, and stores everything
in one safetensors file per case. Run by hand, never by CI:

    /work/.venv-torch/bin/python Scripts/make-parity-fixtures.py [--out Tests/NeuralNetTests/Fixtures]

Needs torch (CPU) and safetensors. Deterministic: every case seeds torch.manual_seed(seed) itself and
a re-run on the same CPU reproduces every tensor bit for bit (checked with torch 2.13.0+cpu); only the
order of the `__metadata__` entries in the header may change, because Python safetensors writes them
from a Rust HashMap. On another CPU PyTorch's convolutions round differently (an AMD EPYC against the
files' machine: relative differences up to 3e-6, and the generator's bias gradients before BatchNorm,
zero but for rounding, differ wholly), so a new case is added by writing every file to a scratch folder
(--out) and copying the new case's file alone. All tensors float32, batch 2. Total size is checked to
stay below 2 MB (currently ~1.82 MB).

Keys in every file (NN_CONTRACT "Fixture files"):
  input (generator: z)       the input batch
  param.<key>                every parameter and buffer BEFORE the forward/step (including SN `.u`)
  output                     forward output (discriminator: output.patch, output.global)
  grad_output                upstream gradient, random (discriminator: grad_output.patch, grad_output.global)
  grad.input                 gradient w.r.t. the input (generator: w.r.t. z)
  grad.<key>                 gradient w.r.t. each trainable parameter
  after.<key>                buffers after the forward (SN `.u`, BN running stats); for `adam`, the
                             trainable parameters after one Adam step
Metadata (all strings): case, torch_version, seed, training ("true"/"false") and per case below.

Cases (files):
  conv             plain Conv2D (no SN) 3->4, k3, stride 2, padding 1, bias; input 2x3x8x8.
                   Keys weight, bias. Metadata kernel, stride, padding.
  conv_transpose   ConvTranspose2D 2->3, k4, stride 2, padding 1, bias; input 2x2x2x3 -> output 2x3x4x6.
                   Input, weight (in, out, k, k) and bias from formulas: x = sin(0.37 i), W = 0.5 cos(0.11 i),
                   b = (0.1, -0.2, 0.3). Keys weight, bias. Metadata kernel, stride, padding.
  snconv           SNConv2D 4->6, k4, stride 2, padding 1, bias, training (one power iteration);
                   input 2x4x8x8. Keys weight, bias, u; after.u.
  snconv_eval      as snconv in eval mode (no power iteration; v = normalize(W_mat^T u)); after.u == param.u.
  snlinear         SNLinear 10->6 with bias, training; input 2x10. Keys weight, bias, u; after.u.
  attention        SelfAttention(16) with gamma = 0.5, training (SN power iterations); input 2x16x8x8.
                   Keys query/key/value/out .weight/.u, gamma; after.<conv>.u.
  batchnorm_train  BatchNorm2D(4), training (batch stats; running stats updated, unbiased var);
                   weight, bias, running_mean, running_var random; input 2x4x5x5; after.running_*.
  batchnorm_eval   as batchnorm_train in eval mode (running stats used and unchanged).
  npr              the NPR residual x - up(down(x)) (2x nearest), no parameters; input 2x3x6x8.
  srm              the three SRM high-pass kernels on luminance, reflect padding 2, no parameters;
                   input 2x3x7x9 (odd sizes: the reflection at both ends).
  constrained      SRM's kernels made learnable: kernel k = n_k u / |u|, u = v_k - mean(v_k), n_k the
                   norm of SRM's kernel k, on luminance with reflect padding 2; v = SRM + noise;
                   input 2x3x7x9. Key weight (3, 25).
  contrast         the SRM residuals' energy over a 5x5 box against an 11x11 one (radii 2 and 5,
                   boxes clipped to the input), log ratio, epsilon 1/255^2; input 2x3x12x20.
  discriminator    the reference discriminator with widths 8,16,32,64 instead of 32,64,128,256
                   (metadata `widths`), attention gamma 0.5, training; input 2x3x32x32 ->
                   output.patch 2x1x4x4, output.global 2x1; after.*.u for every SN layer.
  generator        the reference generator with widths 16,16,8,8,4 instead of 256,128,64,32,16
                   (metadata `widths`: fc outputs widths[0]*4*4, up1..up4 output widths[1..4],
                   attention on up3's output = widths[3] channels), z_dim 128, attention gamma 0.5,
                   training (BN batch stats); z 2x128 -> output 2x3x64x64; after.*.u and after.*.running_*.
  adam             one torch.optim.Adam step (lr 2e-4, betas (0, 0.9), eps 1e-8, weight_decay 0) on the
                   discriminator fixture's trainable parameters with its gradients: param.* (incl. u,
                   untouched by Adam), grad.*, after.<trainable key>; and the same step with
                   weight_decay 1e-4 (L2 added to the gradient, PyTorch Adam) as after_weight_decay.<key>.
                   Metadata lr, betas, eps, weight_decay (of after_weight_decay), widths.

The script also checks our functional spectral norm against torch.nn.utils.spectral_norm (training,
same initial u: output, updated u and weight gradient) and torch.nn.utils.parametrizations.spectral_norm
(eval with our u, v) and prints the maximum differences.
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nn_reference as R  # noqa: E402

DISCRIMINATOR_FIXTURE_WIDTHS = (8, 16, 32, 64)
GENERATOR_FIXTURE_WIDTHS = (16, 16, 8, 8, 4)
ATTENTION_GAMMA = 0.5
ADAM_LR, ADAM_BETAS, ADAM_EPS, ADAM_WEIGHT_DECAY = 2e-4, (0.0, 0.9), 1e-8, 1e-4


def snapshot(module, prefix):
    """Every parameter and buffer of `module`, detached copies, keys `<prefix>.<state key>`."""
    return {f"{prefix}.{key}": value.detach().clone() for key, value in module.state_dict().items()}


def buffers_after(module):
    return {f"after.{key}": value.detach().clone() for key, value in module.named_buffers()}


def parameter_grads(module):
    return {f"grad.{key}": value.grad.detach().clone() for key, value in module.named_parameters()}


def base_metadata(case, seed, training):
    return {"case": case, "torch_version": torch.__version__, "seed": str(seed),
            "training": "true" if training else "false", "dtype": "F32"}


def run_module_case(case, module, input_tensor, seed, training):
    """Forward, backward with a random upstream gradient; returns the contract's tensors."""
    module.train(training)
    tensors = {"input": input_tensor.detach().clone()}
    tensors.update(snapshot(module, "param"))
    x = input_tensor.detach().clone().requires_grad_(True)
    output = module(x)
    grad_output = torch.randn_like(output)
    output.backward(grad_output)
    tensors["output"] = output.detach().clone()
    tensors["grad_output"] = grad_output
    tensors["grad.input"] = x.grad.detach().clone()
    tensors.update(parameter_grads(module))
    tensors.update(buffers_after(module))
    return tensors, base_metadata(case, seed, training)


# MARK: cases


def run_functional_case(case, seed, function, x, weight, bias, kernel, stride, padding):
    """function(x, weight, bias, stride, padding), backward with a random upstream gradient (drawn after
    the forward); returns the contract's tensors and metadata. x, weight, bias require grad."""
    tensors = {"input": x.detach().clone(), "param.weight": weight.detach().clone(), "param.bias": bias.detach().clone()}
    output = function(x, weight, bias, stride=stride, padding=padding)
    grad_output = torch.randn_like(output)
    output.backward(grad_output)
    tensors.update({"output": output.detach(), "grad_output": grad_output, "grad.input": x.grad,
                    "grad.weight": weight.grad, "grad.bias": bias.grad})
    metadata = base_metadata(case, seed, True)
    in_channels, out_channels = x.shape[1], bias.shape[0]
    metadata.update({"kernel": str(kernel), "stride": str(stride), "padding": str(padding),
                     "in_channels": str(in_channels), "out_channels": str(out_channels)})
    return tensors, metadata


def case_conv(seed=1):
    torch.manual_seed(seed)
    weight = (torch.randn(4, 3, 3, 3) / 27 ** 0.5).requires_grad_(True)
    bias = (0.1 * torch.randn(4)).requires_grad_(True)
    x = torch.randn(2, 3, 8, 8).requires_grad_(True)
    return run_functional_case("conv", seed, F.conv2d, x, weight, bias, kernel=3, stride=2, padding=1)


def case_conv_transpose(seed=8):
    """ConvTranspose2d 2->3, k4 s2 p1 with bias, on inputs given by formulas (x = sin(0.37 i),
    W = 0.5 cos(0.11 i) over the flattened tensors, b = (0.1, -0.2, 0.3)); the upstream gradient is seeded."""
    torch.manual_seed(seed)
    index = lambda count: torch.arange(count, dtype=torch.float64)  # noqa: E731
    x = torch.sin(0.37 * index(2 * 2 * 2 * 3)).reshape(2, 2, 2, 3).to(torch.float32).requires_grad_(True)
    weight = (0.5 * torch.cos(0.11 * index(2 * 3 * 4 * 4))).reshape(2, 3, 4, 4).to(torch.float32).requires_grad_(True)
    bias = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float32, requires_grad=True)
    return run_functional_case("conv_transpose", seed, F.conv_transpose2d, x, weight, bias, kernel=4, stride=2, padding=1)


def case_snconv(seed=2, training=True):
    torch.manual_seed(seed)
    layer = R.SNConv2d(4, 6, 4, stride=2, padding=1)
    x = torch.randn(2, 4, 8, 8)
    tensors, metadata = run_module_case("snconv" if training else "snconv_eval", layer, x, seed, training)
    metadata.update({"kernel": "4", "stride": "2", "padding": "1", "in_channels": "4", "out_channels": "6",
                     "power_iterations": "1" if training else "0"})
    return tensors, metadata


def case_snlinear(seed=3):
    torch.manual_seed(seed)
    layer = R.SNLinear(10, 6)
    tensors, metadata = run_module_case("snlinear", layer, torch.randn(2, 10), seed, True)
    metadata.update({"in_features": "10", "out_features": "6"})
    return tensors, metadata


def case_attention(seed=4):
    torch.manual_seed(seed)
    layer = R.SelfAttention(16, gamma=ATTENTION_GAMMA)
    tensors, metadata = run_module_case("attention", layer, torch.randn(2, 16, 8, 8), seed, True)
    metadata.update({"channels": "16", "gamma": str(ATTENTION_GAMMA)})
    return tensors, metadata


def case_batchnorm(training, seed=5):
    torch.manual_seed(seed)
    layer = R.BatchNorm2d(4)
    with torch.no_grad():
        layer.weight.copy_(1 + 0.3 * torch.randn(4))
        layer.bias.copy_(0.2 * torch.randn(4))
        layer.running_mean.copy_(0.1 * torch.randn(4))
        layer.running_var.copy_(0.5 + torch.rand(4))
    x = 2 * torch.randn(2, 4, 5, 5) + 0.5
    case = "batchnorm_train" if training else "batchnorm_eval"
    tensors, metadata = run_module_case(case, layer, x, seed, training)
    metadata.update({"channels": "4", "eps": str(R.BN_EPS), "momentum": str(R.BN_MOMENTUM)})
    return tensors, metadata


def run_function_case(case, function, x, seed):
    """A parameter-free layer: forward, backward with a random upstream gradient (drawn after the forward)."""
    x_leaf = x.detach().clone().requires_grad_(True)
    output = function(x_leaf)
    grad_output = torch.randn_like(output)
    output.backward(grad_output)
    tensors = {"input": x.detach().clone(), "output": output.detach().clone(), "grad_output": grad_output,
               "grad.input": x_leaf.grad.detach().clone()}
    return tensors, base_metadata(case, seed, True)


def case_npr(seed=9):
    torch.manual_seed(seed)
    tensors, metadata = run_function_case("npr", R.npr_residual, torch.rand(2, 3, 6, 8), seed)
    metadata.update({"definition": "x - interpolate(interpolate(x, 0.5, nearest), 2, nearest)"})
    return tensors, metadata


def case_srm(seed=10):
    torch.manual_seed(seed)
    tensors, metadata = run_function_case("srm", R.srm_residual, torch.rand(2, 3, 7, 9), seed)
    metadata.update({"luminance": ",".join(str(w) for w in R.LUMINANCE_WEIGHTS), "padding": "2 reflect",
                     "divisors": ",".join(str(d) for d in R.SRM_DIVISORS)})
    return tensors, metadata


def case_constrained(seed=12):
    """v moved off SRM's kernels (mean and norm changed), so the reparametrization's Jacobian is tested."""
    torch.manual_seed(seed)
    module = R.ConstrainedHighPass()
    with torch.no_grad():
        module.weight.add_(0.2 * torch.randn_like(module.weight) + 0.1)
    tensors, metadata = run_module_case("constrained", module, torch.rand(2, 3, 7, 9), seed, True)
    metadata.update({"luminance": ",".join(str(w) for w in R.LUMINANCE_WEIGHTS), "padding": "2 reflect"})
    return tensors, metadata


def case_contrast(seed=11):
    """Radii 2 and 5 on a 12x20 plane: boxes clipped at every border, and interior boxes whole."""
    torch.manual_seed(seed)
    function = lambda x: R.srm_energy_contrast(x, local_radius=2, context_radius=5)
    tensors, metadata = run_function_case("contrast", function, torch.rand(2, 3, 12, 20), seed)
    metadata.update({"radii": "2,5", "epsilon": repr(1.0 / 255 ** 2)})
    return tensors, metadata


def widths_string(widths):
    return ",".join(str(width) for width in widths)


def case_discriminator(seed=6):
    """Returns (tensors, metadata, model after backward) so the adam case can reuse the gradients."""
    torch.manual_seed(seed)
    model = R.Discriminator(DISCRIMINATOR_FIXTURE_WIDTHS, attention_gamma=ATTENTION_GAMMA)
    x = torch.randn(2, 3, 32, 32)
    model.train(True)
    tensors = {"input": x.clone()}
    tensors.update(snapshot(model, "param"))
    x_leaf = x.clone().requires_grad_(True)
    patch, global_logit = model(x_leaf)
    grad_patch, grad_global = torch.randn_like(patch), torch.randn_like(global_logit)
    torch.autograd.backward([patch, global_logit], [grad_patch, grad_global])
    tensors.update({"output.patch": patch.detach().clone(), "output.global": global_logit.detach().clone(),
                    "grad_output.patch": grad_patch, "grad_output.global": grad_global,
                    "grad.input": x_leaf.grad.clone()})
    tensors.update(parameter_grads(model))
    tensors.update(buffers_after(model))
    metadata = base_metadata("discriminator", seed, True)
    metadata.update({
        "widths": widths_string(DISCRIMINATOR_FIXTURE_WIDTHS),
        "reference_widths": widths_string(R.DISCRIMINATOR_WIDTHS),
        "instantiation": "Discriminator(widths=(8,16,32,64)): block1 3->8->8, block2 8->16->16, attn(16), "
                         "block3 16->32->32, block4.conv1 32->64, patch_logits 64->1, global_logit 64->1",
        "input_shape": "2,3,32,32", "leaky_relu_slope": str(R.LEAKY_SLOPE), "attention_gamma": str(ATTENTION_GAMMA),
    })
    return tensors, metadata, model


def case_generator(seed=7):
    torch.manual_seed(seed)
    model = R.Generator(GENERATOR_FIXTURE_WIDTHS, z_dim=R.Z_DIM, attention_gamma=ATTENTION_GAMMA)
    z = torch.randn(2, R.Z_DIM)
    tensors, metadata = run_module_case("generator", model, z, seed, True)
    tensors["z"] = tensors.pop("input")
    metadata.update({
        "widths": widths_string(GENERATOR_FIXTURE_WIDTHS),
        "reference_widths": widths_string(R.GENERATOR_WIDTHS),
        "z_dim": str(R.Z_DIM),
        "instantiation": "Generator(widths=(16,16,8,8,4), z_dim=128): fc 128->16*4*4, bn0(16), up1 16->16, "
                         "up2 16->8, up3 8->8, attn(8), up4 8->4, out 4->3",
        "attention_gamma": str(ATTENTION_GAMMA),
    })
    return tensors, metadata


def adam_step(model, weight_decay):
    """Copies of the model's trainable parameters after one Adam step with the model's current .grad."""
    parameters = {key: value.detach().clone().requires_grad_(True) for key, value in model.named_parameters()}
    for key, value in model.named_parameters():
        parameters[key].grad = value.grad.detach().clone()
    optimizer = torch.optim.Adam(parameters.values(), lr=ADAM_LR, betas=ADAM_BETAS, eps=ADAM_EPS,
                                 weight_decay=weight_decay)
    optimizer.step()
    return {key: value.detach().clone() for key, value in parameters.items()}


def case_adam(discriminator_tensors, model, seed=6):
    tensors = {key: value for key, value in discriminator_tensors.items()
               if key.startswith("param.") or key.startswith("grad.") and key != "grad.input"}
    tensors.update({f"after.{key}": value for key, value in adam_step(model, 0.0).items()})
    tensors.update({f"after_weight_decay.{key}": value for key, value in adam_step(model, ADAM_WEIGHT_DECAY).items()})
    metadata = base_metadata("adam", seed, True)
    metadata.update({
        "lr": str(ADAM_LR), "betas": f"{ADAM_BETAS[0]},{ADAM_BETAS[1]}", "eps": str(ADAM_EPS),
        "weight_decay": "0", "after_weight_decay.weight_decay": str(ADAM_WEIGHT_DECAY),
        "step": "1", "widths": widths_string(DISCRIMINATOR_FIXTURE_WIDTHS),
        "note": "parameters and gradients are those of the discriminator fixture; u buffers are not updated by Adam",
    })
    return tensors, metadata


# MARK: spectral norm cross-check


def check_spectral_norm_against_torch():
    """Prints max differences between our SN and PyTorch's; returns the largest."""
    torch.manual_seed(11)
    ours = R.SNConv2d(5, 7, 3, 1, 1)
    reference = nn.Conv2d(5, 7, 3, 1, 1)
    with torch.no_grad():
        reference.weight.copy_(ours.weight)
        reference.bias.copy_(ours.bias)
    reference = torch.nn.utils.spectral_norm(reference)
    with torch.no_grad():
        reference.weight_u.copy_(ours.u)
    x = torch.randn(2, 5, 6, 6)
    grad = torch.randn(2, 7, 6, 6)
    ours.train()
    reference.train()
    y_ours, y_reference = ours(x), reference(x)
    y_ours.backward(grad)
    y_reference.backward(grad)
    output_diff = (y_ours - y_reference).abs().max().item()
    u_diff = (ours.u - reference.weight_u).abs().max().item()
    grad_diff = (ours.weight.grad - reference.weight_orig.grad).abs().max().item()
    print(f"spectral norm vs torch.nn.utils.spectral_norm (train, 1 power iteration): "
          f"max |output diff| {output_diff:.3g}, |u diff| {u_diff:.3g}, |weight grad diff| {grad_diff:.3g}")

    # parametrizations.spectral_norm iterates in the other order (u from v, then v from u), so compare
    # the normalization itself: eval mode with its (u, v) set to ours.
    parametrized = nn.Conv2d(5, 7, 3, 1, 1)
    with torch.no_grad():
        parametrized.weight.copy_(ours.weight)
        parametrized.bias.copy_(ours.bias)
    parametrized = torch.nn.utils.parametrizations.spectral_norm(parametrized)
    ours.eval()
    parametrized.eval()
    with torch.no_grad():
        weight_mat = ours.weight.reshape(7, -1)
        sn = parametrized.parametrizations.weight[0]
        sn._u.copy_(ours.u)
        sn._v.copy_(R.normalize(torch.mv(weight_mat.t(), ours.u)))
        eval_diff = (ours(x) - parametrized(x)).abs().max().item()
    print(f"spectral norm vs torch.nn.utils.parametrizations.spectral_norm (eval, same u and v): "
          f"max |output diff| {eval_diff:.3g}")
    return max(output_diff, u_diff, grad_diff, eval_diff)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NeuralNetTests", "Fixtures")
    parser.add_argument("--out", default=os.path.normpath(default_out), help="fixture directory")
    args = parser.parse_args()
    torch.set_num_threads(1)  # deterministic reductions

    worst = check_spectral_norm_against_torch()
    if worst > 1e-5:
        sys.exit(f"spectral norm disagrees with PyTorch by {worst}")

    discriminator_tensors, discriminator_metadata, discriminator = case_discriminator()
    cases = [
        case_conv(),
        case_conv_transpose(),
        case_snconv(training=True),
        case_snconv(training=False),
        case_snlinear(),
        case_attention(),
        case_batchnorm(training=True),
        case_batchnorm(training=False),
        case_npr(),
        case_srm(),
        case_contrast(),
        (discriminator_tensors, discriminator_metadata),
        case_generator(),
        case_adam(discriminator_tensors, discriminator),
        case_constrained(),
    ]
    total = 0
    for tensors, metadata in cases:
        path = os.path.join(args.out, f"{metadata['case']}.safetensors")
        save_file({key: value.detach().contiguous().to(torch.float32) for key, value in tensors.items()},
                  path, metadata=metadata)
        size = os.path.getsize(path)
        total += size
        print(f"{path}: {len(tensors)} tensors, {size} bytes")
    print(f"total {total} bytes")
    if total >= 2 * 1024 * 1024:
        sys.exit("fixtures exceed 2 MB")


if __name__ == "__main__":
    main()
