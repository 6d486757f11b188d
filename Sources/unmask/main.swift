import NeuralNet
import Foundation
setenv("OPENBLAS_CORETYPE", "Prescott", 1)
BLASRuntime.selectKernel("Prescott")
print(BLASRuntime.kernelName)
unsetenv("OPENBLAS_CORETYPE")
print(BLASRuntime.ensureFastKernel())
