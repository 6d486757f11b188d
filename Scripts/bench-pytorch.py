#!/usr/bin/env python3
"""Peer benchmark: the contract's reference discriminator in PyTorch (CPU), images per second.

Owns the PyTorch numbers our Swift engine is compared with. Same network as NN_CONTRACT.md
(Scripts/nn_reference.py), float32, NCHW, `torch.set_num_threads(2)` by default. Run by hand:

    /work/.venv-torch/bin/python Scripts/bench-pytorch.py                      # seeded init, table
    /work/.venv-torch/bin/python Scripts/bench-pytorch.py --json               # also JSON on stdout
    /work/.venv-torch/bin/python Scripts/bench-pytorch.py --weights d.safetensors   # our engine's weights
    /work/.venv-torch/bin/python Scripts/bench-pytorch.py --save-weights d.safetensors  # export the seeded init

Measured, for each image size (default 128 and 64):
  inference   eval mode (spectral norm without power iteration), torch.inference_mode(), batch 1, 8, 32;
  train step  batch 32, train mode: zero grads, forward, hinge loss, backward, Adam step
              (lr 2e-4, betas (0, 0.9), eps 1e-8). Loss = mean(relu(1 - y*patch)) + mean(relu(1 - y*global))
              with y = +1 for the first half of the batch and -1 for the second.
Each measurement: warm-up runs, then `--runs` timed runs; a run repeats the operation until it has
lasted at least `--min-run-seconds`; reported is the median over runs of images / second (the best
run is shown too: on shared cores it is the better estimate of the idle machine).

--weights FILE loads a safetensors file with the contract's keys (`block1.conv1.weight`, `.bias`, `.u`,
`attn.gamma`, ...; a `param.` prefix, as in the parity fixtures, is stripped; other keys are ignored);
the widths are taken from the weight shapes. Without it: torch.manual_seed(--seed) initialization.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nn_reference as R  # noqa: E402


def load_discriminator(path):
    """A Discriminator with the weights of `path`, widths inferred from the weight shapes."""
    raw = load_file(path)
    state = {}
    for key, value in raw.items():
        if key.startswith("param."):
            state[key[len("param."):]] = value
        elif "." in key and key.split(".")[0] in ("block1", "block2", "block3", "block4", "attn",
                                                  "patch_logits", "global_logit"):
            state.setdefault(key, value)
    try:
        widths = tuple(state[f"block{index}.conv1.weight"].shape[0] for index in (1, 2, 3, 4))
    except KeyError as missing:
        sys.exit(f"{path}: no discriminator weights (missing {missing})")
    model = R.Discriminator(widths)
    try:
        model.load_state_dict({key: value.to(torch.float32) for key, value in state.items()}, strict=True)
    except RuntimeError as error:
        sys.exit(f"{path}: weights do not match the reference discriminator: {error}")
    return model, widths


def time_operation(operation, images_per_call, warmup, runs, min_run_seconds):
    """Median images/second over `runs` timed runs, each at least `min_run_seconds` long."""
    for _ in range(warmup):
        operation()
    rates = []
    for _ in range(runs):
        calls = 0
        start = time.perf_counter()
        while True:
            operation()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_run_seconds:
                break
        rates.append(calls * images_per_call / elapsed)
    return statistics.median(rates), rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default="128,64", help="image sizes, comma-separated (divisible by 8)")
    parser.add_argument("--batches", default="1,8,32", help="inference batch sizes")
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min-run-seconds", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", help="safetensors file with the discriminator's weights (our engine's)")
    parser.add_argument("--save-weights", help="write the (seeded or loaded) weights here and continue")
    parser.add_argument("--json", nargs="?", const="-", help="also write JSON results to FILE (default stdout)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.weights:
        model, widths = load_discriminator(args.weights)
    else:
        widths = R.DISCRIMINATOR_WIDTHS
        model = R.Discriminator(widths)
    if args.save_weights:
        save_file({key: value.detach().contiguous() for key, value in model.state_dict().items()},
                  args.save_weights, metadata={"network": "discriminator", "widths": ",".join(map(str, widths)),
                                               "seed": str(args.seed), "torch_version": torch.__version__})
    parameter_count = sum(parameter.numel() for parameter in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.0, 0.9), eps=1e-8)

    load_before = os.getloadavg()
    results = []
    for size in (int(text) for text in args.sizes.split(",")):
        model.eval()
        for batch in (int(text) for text in args.batches.split(",")):
            images = torch.randn(batch, 3, size, size)

            def infer():
                with torch.inference_mode():
                    model(images)

            median, rates = time_operation(infer, batch, args.warmup, args.runs, args.min_run_seconds)
            results.append({"size": size, "mode": "inference", "batch": batch, "images_per_second": median,
                            "runs": rates})
        if args.train_batch <= 0:  # inference rows only
            continue
        model.train()
        batch = args.train_batch
        images = torch.randn(batch, 3, size, size)
        labels = torch.cat([torch.ones(batch // 2), -torch.ones(batch - batch // 2)])

        def train_step():
            optimizer.zero_grad(set_to_none=True)
            patch, global_logit = model(images)
            R.hinge_loss(patch, global_logit, labels).backward()
            optimizer.step()

        median, rates = time_operation(train_step, batch, args.warmup, args.runs, args.min_run_seconds)
        results.append({"size": size, "mode": "train_step", "batch": batch, "images_per_second": median, "runs": rates})

    load_after = os.getloadavg()
    source = args.weights or f"seeded init (seed {args.seed})"
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, discriminator widths "
          f"{','.join(map(str, widths))} ({parameter_count} parameters), weights: {source}")
    print(f"median of {args.runs} runs (each >= {args.min_run_seconds}s) after {args.warmup} warm-up runs; "
          f"1-min load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"({os.cpu_count()} CPUs; a load above ~0.5 before means other work shares the cores)")
    print(f"{'size':>5} {'mode':<11} {'batch':>5} {'images/s':>10} {'ms/batch':>10} {'best img/s':>11}")
    for result in results:
        milliseconds = 1000 * result["batch"] / result["images_per_second"]
        print(f"{result['size']:>5} {result['mode']:<11} {result['batch']:>5} "
              f"{result['images_per_second']:>10.1f} {milliseconds:>10.2f} {max(result['runs']):>11.1f}")
    if args.json:
        document = {"torch_version": torch.__version__, "threads": torch.get_num_threads(),
                    "widths": list(widths), "parameters": parameter_count, "weights": source,
                    "load_average_before": load_before[0], "load_average_after": load_after[0],
                    "cpu_count": os.cpu_count(), "runs": args.runs, "warmup": args.warmup, "min_run_seconds": args.min_run_seconds,
                    "results": results}
        text = json.dumps(document, indent=2)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w") as handle:
                handle.write(text + "\n")


if __name__ == "__main__":
    main()
