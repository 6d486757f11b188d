// The `unmask` command: its subcommands, the options they share, and start-up (OpenBLAS kernel).
import ArgumentParser
import Foundation
import MediaIO
import NeuralNet

@main
struct UnmaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmask",
        abstract: "Detect deepfakes and synthetic media in videos and images.",
        discussion: ExitStatus.help(),
        version: "0.1.0",
        subcommands: [
            ScanCommand.self, AuditCommand.self, MergeCommand.self, TrainCommand.self, EvaluateCommand.self,
            CalibrateCommand.self, RetrainCommand.self, ModelsCommand.self, ForgeCommand.self,
            ProbeCommand.self,
            FramesCommand.self, BenchCommand.self, ZooCommand.self,
        ]
    )

    static func main() {
        // Before any BLAS work: make sure OpenBLAS runs a kernel that suits this CPU.
        let choice = BLASRuntime.ensureFastKernel()
        if choice.action == .reselectFailed {
            Terminal.warn(
                "OpenBLAS runs its slow '\(choice.before)' kernel and could not switch; set OPENBLAS_CORETYPE to fix it")
        }
        main(nil)
    }
}
