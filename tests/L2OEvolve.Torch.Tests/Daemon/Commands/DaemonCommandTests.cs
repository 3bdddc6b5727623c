using L2OEvolve.Cli.Commands;
using L2OEvolve.Torch.Tests.Cli;

namespace L2OEvolve.Torch.Tests.Daemon.Commands;

public class DaemonCommandTests
{
    [Test]
    public void Daemon_BadDurationAndOtherBadValues_AreAllNamedInOnePass()
    {
        using var cli = new CliRunner();
        var (code, _, stderr) = cli.Run("daemon", "--home", cli.PathOf("home"), "--poll", "soon", "--workers", "0", "--keep", "1");
        Assert.That(code, Is.EqualTo(CommandErrors.BadInput));
        Assert.That(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EquivalentTo(new[]
        {
            "error: --poll: 'soon' is not a duration (e.g. 500ms, 30s, 5m, 2h)",
            "error: --workers: must be 1..256 (got 0)",
            "error: --keep: must be at least 2 so a corrupt newest checkpoint has a fallback (got 1)",
        }));
        Assert.That(Directory.Exists(cli.PathOf("home")), Is.False, "nothing is created for refused options");
    }
}
