using System.Text.RegularExpressions;

namespace L2OEvolve.Torch.Tests.Cli;

/// <summary>
/// The CLI is thin: the daemon, its jobs, its web page and checkpoints never use a command file, and no verb uses
/// another verb; what they share lives in the libraries.
/// </summary>
public partial class LayeringTests
{
    private static string CliDir() => Path.Combine(RepoRoot(), "host", "L2OEvolve.Cli");

    // The verbs: Commands/*Command.cs, each declaring a type of its own name.
    private static IReadOnlyList<string> Verbs() =>
        [.. Directory.GetFiles(Path.Combine(CliDir(), "Commands"), "*Command.cs").Select(Path.GetFileNameWithoutExtension).Select(n => n!)];

    // Source text without comments, so a comment may name a verb.
    private static string Code(string file) => LineComment().Replace(File.ReadAllText(file), "");

    [TestCase("Daemon")]
    [TestCase("Jobs")]
    [TestCase("Web")]
    [TestCase("Checkpoints")]
    public void HostFolder_UsesNoCommandFile(string folder)
    {
        var helpers = Directory.GetFiles(Path.Combine(CliDir(), "Commands"), "*.cs").Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.That(helpers, Has.Count.GreaterThan(10), "the check must see the command files");
        var uses = Directory.GetFiles(Path.Combine(CliDir(), folder), "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => helpers.Append("L2OEvolve.Cli.Commands").Where(name => Regex.IsMatch(Code(f), $@"\b{Regex.Escape(name!)}\b"))
                .Select(name => $"{Path.GetFileName(f)} uses {name}"))
            .ToList();
        Assert.That(uses, Is.Empty);
    }

    [Test]
    public void Verb_UsesNoOtherVerb()
    {
        var verbs = Verbs();
        var uses = verbs.SelectMany(v => verbs.Where(other => other != v && Regex.IsMatch(Code(Path.Combine(CliDir(), "Commands", v + ".cs")), $@"\b{other}\b"))
            .Select(other => $"{v} uses {other}")).ToList();
        Assert.That(uses, Is.Empty);
    }

    [Test]
    public void Libraries_DoNotReferenceTheHost()
    {
        var engine = Path.Combine(RepoRoot(), "engine");
        var uses = Directory.GetFiles(engine, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && Code(f).Contains("L2OEvolve.Cli", StringComparison.Ordinal))
            .ToList();
        Assert.That(uses, Is.Empty);
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "L2OEvolve.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (L2OEvolve.sln) not found above the test directory");
    }

    [GeneratedRegex(@"//.*")]
    private static partial Regex LineComment();
}
