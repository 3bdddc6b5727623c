using Microsoft.Extensions.Options;

namespace L2OEvolve.Cli.Daemon;

/// <summary>How the daemon schedules jobs, checkpoints them and handles faults; validated when the host starts.</summary>
public sealed class DaemonOptions
{
    /// <summary>The home directory holding the jobs.</summary>
    public string Home { get; set; } = "";

    /// <summary>Jobs run at the same time.</summary>
    public int Workers { get; set; } = 1;

    /// <summary>Checkpoint every this many generations (0: only by time and at exit).</summary>
    public int CheckpointEveryGenerations { get; set; } = 10;

    /// <summary>Checkpoint when this much time has passed since the last one.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Checkpoints kept per job (the newest ones); at least 2, so a corrupt newest one has a fallback.</summary>
    public int KeepCheckpoints { get; set; } = 3;

    /// <summary>How often the home directory is scanned for new jobs and stop requests.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a running job's status file is refreshed.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>One batch of fitness evaluations taking longer than this counts as hung.</summary>
    public TimeSpan EvaluationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Attempts at one batch of evaluations before its generation, and so the job, fails (evaluation is deterministic, so a retry is exact).</summary>
    public int EvaluationAttempts { get; set; } = 3;

    /// <summary>Retries of a transient I/O failure (the first delay; later ones grow exponentially).</summary>
    public int IoRetries { get; set; } = 3;

    /// <summary>The first back-off delay of an I/O retry.</summary>
    public TimeSpan IoRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Attempts at a job's final checkpoint (at its budget, a stop, a shutdown) before it is given up.</summary>
    public int FinalCheckpointAttempts { get; set; } = 6;

    /// <summary>The delay before the second attempt at a final checkpoint; each later one doubles it (1+2+4+8+16 s by default).</summary>
    public TimeSpan FinalCheckpointDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long SIGTERM/SIGINT waits for running jobs to write their final checkpoints.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Exit once no job is left to run (for scripts and tests); otherwise wait for new jobs.</summary>
    public bool ExitWhenIdle { get; set; }

    /// <summary>The port of the live page, JSON API and <c>/metrics</c>; none (the default) serves nothing.</summary>
    public int? HttpPort { get; set; }

    /// <summary>The address the page is served on; loopback unless told otherwise.</summary>
    public string HttpBind { get; set; } = "127.0.0.1";
}

/// <summary>Rejects option values the daemon cannot work with, naming each one.</summary>
public sealed class DaemonOptionsValidator : IValidateOptions<DaemonOptions>
{
    public ValidateOptionsResult Validate(string? name, DaemonOptions o)
    {
        var faults = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Home)) faults.Add("--home: required");
        if (o.Workers is < 1 or > 256) faults.Add($"--workers: must be 1..256 (got {o.Workers})");
        if (o.CheckpointEveryGenerations < 0) faults.Add($"--checkpoint-generations: must be >= 0 (got {o.CheckpointEveryGenerations})");
        if (o.CheckpointInterval <= TimeSpan.Zero) faults.Add($"--checkpoint-interval: must be positive (got {o.CheckpointInterval})");
        if (o.KeepCheckpoints < 2) faults.Add($"--keep: must be at least 2 so a corrupt newest checkpoint has a fallback (got {o.KeepCheckpoints})");
        if (o.PollInterval <= TimeSpan.Zero) faults.Add($"--poll: must be positive (got {o.PollInterval})");
        if (o.StatusInterval <= TimeSpan.Zero) faults.Add($"--status-interval: must be positive (got {o.StatusInterval})");
        if (o.EvaluationTimeout <= TimeSpan.Zero) faults.Add($"--evaluation-timeout: must be positive (got {o.EvaluationTimeout})");
        if (o.EvaluationAttempts < 1) faults.Add($"--evaluation-attempts: must be at least 1 (got {o.EvaluationAttempts})");
        if (o.IoRetries < 0) faults.Add($"I/O retries must be >= 0 (got {o.IoRetries})");
        if (o.FinalCheckpointAttempts < 1) faults.Add($"final checkpoint attempts must be at least 1 (got {o.FinalCheckpointAttempts})");
        if (o.FinalCheckpointDelay < TimeSpan.Zero) faults.Add($"the final checkpoint delay must be >= 0 (got {o.FinalCheckpointDelay})");
        if (o.ShutdownTimeout <= TimeSpan.Zero) faults.Add($"--shutdown-timeout: must be positive (got {o.ShutdownTimeout})");
        if (o.HttpPort is < 1 or > 65535) faults.Add($"--http: must be a port 1..65535 (got {o.HttpPort})");
        if (!System.Net.IPAddress.TryParse(o.HttpBind, out _)) faults.Add($"--http-bind: '{o.HttpBind}' is not an IP address");
        return faults.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(faults);
    }
}
