// Placeholder entry point until the subcommands land.
import NeuralNet
BLASRuntime.ensureFastKernel()
print("unmask: OpenBLAS kernel \(BLASRuntime.kernelName)")
