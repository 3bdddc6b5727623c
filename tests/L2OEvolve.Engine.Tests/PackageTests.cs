using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace L2OEvolve.Engine.Tests;

/// <summary>The engine ships as a NuGet package: <c>dotnet pack</c> gives one with an id, a version, a description, a readme and the doc comments.</summary>
public class PackageTests
{
    [Test]
    public void Pack_Engine_GivesAPackageWithVersionDescriptionReadmeAndDocs()
    {
        string root = RepoRoot();
        // Packs the assembly this test run built (same configuration), so the check costs seconds, not a build.
        string configuration = TestContext.CurrentContext.TestDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        string output = Path.Combine(Path.GetTempPath(), "l2oevolve-pack-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, log) = Dotnet(root, "pack", Path.Combine(root, "engine", "L2OEvolve.Engine", "L2OEvolve.Engine.csproj"),
                "-c", configuration, "--no-build", "--no-restore", "-nologo", "-o", output);
            Assert.That(code, Is.EqualTo(0), log);
            string package = Directory.GetFiles(output, "*.nupkg").Single();
            Assert.That(Path.GetFileName(package), Does.Match(@"^L2OEvolve\.Engine\.\d+\.\d+\.\d+\.nupkg$"));

            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.That(entries, Does.Contain("README.md").And.Contain("lib/net10.0/L2OEvolve.Engine.dll").And.Contain("lib/net10.0/L2OEvolve.Engine.xml"));
            var nuspec = XDocument.Load(zip.GetEntry("L2OEvolve.Engine.nuspec")!.Open()).Root!;
            XNamespace ns = nuspec.Name.Namespace;
            var metadata = nuspec.Element(ns + "metadata")!;
            Assert.That(metadata.Element(ns + "id")!.Value, Is.EqualTo("L2OEvolve.Engine"));
            Assert.That(metadata.Element(ns + "version")!.Value, Does.Match(@"^\d+\.\d+\.\d+$"));
            Assert.That(metadata.Element(ns + "description")!.Value, Does.Contain("Symbolic regression"));
            Assert.That(metadata.Element(ns + "readme")!.Value, Is.EqualTo("README.md"));
            using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
            Assert.That(readme.ReadToEnd(), Does.StartWith("# L2OEvolve.Engine"));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    private static (int Code, string Log) Dotnet(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "L2OEvolve.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (L2OEvolve.sln) not found above the test directory");
    }
}
