using L2OEvolve.Cli;

return await CliApp.RunAsync(args);
