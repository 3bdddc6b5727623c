using L2OEvolve.Cli;
using L2OEvolve.Torch;

// Before anything loads libtorch: its OpenMP and MKL read these when they load.
TorchSetup.PrepareNativeRuntime();

return await CliApp.RunAsync(args);
