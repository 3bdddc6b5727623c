using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Daemon;

namespace L2OEvolve.Torch.Tests.Daemon.Checkpoints;

public class CheckpointStoreTests
{
    private static CheckpointEnvelope Envelope(long generation) => new()
    {
        JobName = "j", JobKind = "chain", Generation = generation, Evaluations = generation * 3, ElapsedSeconds = generation * 0.5,
        Fingerprint = new() { ["seed"] = "1" }, State = [(byte)generation, 1, 2, 3],
    };

    private static CheckpointStore Store(TempDir dir, IFileSystem? fs = null, int keep = 3) =>
        new(dir.File("ckpt"), fs ?? PhysicalFileSystem.Instance, Resilience.Io(2, TimeSpan.FromMilliseconds(1)), keep);

    [Test]
    public void Save_MoreThanKeep_KeepsTheNewestK()
    {
        using var dir = new TempDir();
        var store = Store(dir, keep: 3);
        for (int g = 1; g <= 5; g++) store.Save(Envelope(g));
        Assert.That(store.Files().Select(Path.GetFileName), Is.EqualTo(new[] { "ckpt-0000000003.l2ock", "ckpt-0000000004.l2ock", "ckpt-0000000005.l2ock" }));
    }

    [Test]
    public void LoadNewestValid_RoundTrip_RestoresEveryField()
    {
        using var dir = new TempDir();
        var store = Store(dir);
        store.Save(Envelope(4));
        var (env, _, rejected) = store.LoadNewestValid();
        Assert.Multiple(() =>
        {
            Assert.That(rejected, Is.Empty);
            Assert.That(env!.Generation, Is.EqualTo(4));
            Assert.That(env.Evaluations, Is.EqualTo(12));
            Assert.That(env.ElapsedSeconds, Is.EqualTo(2.0));
            Assert.That(env.Fingerprint, Is.EqualTo(new Dictionary<string, string> { ["seed"] = "1" }));
            Assert.That(env.State, Is.EqualTo(new byte[] { 4, 1, 2, 3 }));
        });
    }

    [Test]
    public void LoadNewestValid_NewestCorrupt_ReportsItAndUsesThePrevious()
    {
        using var dir = new TempDir();
        var store = Store(dir);
        store.Save(Envelope(1));
        var newest = store.Save(Envelope(2));
        var bytes = File.ReadAllBytes(newest);
        bytes[^2] ^= 0xFF;
        File.WriteAllBytes(newest, bytes);

        var (env, path, rejected) = store.LoadNewestValid();
        Assert.Multiple(() =>
        {
            Assert.That(env!.Generation, Is.EqualTo(1));
            Assert.That(Path.GetFileName(path), Is.EqualTo("ckpt-0000000001.l2ock"));
            Assert.That(rejected.Single().Path, Is.EqualTo(newest));
            Assert.That(rejected.Single().Fault, Does.Contain("checksum"));
        });
    }

    [Test]
    public void LoadNewestValid_NewestTruncated_ReportsItAndUsesThePrevious()
    {
        using var dir = new TempDir();
        var store = Store(dir);
        store.Save(Envelope(1));
        var newest = store.Save(Envelope(2));
        File.WriteAllBytes(newest, File.ReadAllBytes(newest)[..30]);

        var (env, _, rejected) = store.LoadNewestValid();
        Assert.That(env!.Generation, Is.EqualTo(1));
        Assert.That(rejected.Single().Fault, Does.StartWith("truncated"));
    }

    [Test]
    public void LoadNewestValid_NoFiles_ReturnsNothing()
    {
        using var dir = new TempDir();
        var (env, path, rejected) = Store(dir).LoadNewestValid();
        Assert.That((env, path, rejected.Count), Is.EqualTo(((CheckpointEnvelope?)null, (string?)null, 0)));
    }

    [Test]
    public void Save_DiskFull_ThrowsAndLeavesThePreviousCheckpointIntact()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem(p => p.EndsWith(".tmp", StringComparison.Ordinal) && p.Contains("0000000002"));
        var store = Store(dir, fs);
        var first = store.Save(Envelope(1));
        var before = File.ReadAllBytes(first);

        Assert.Throws<IOException>(() => store.Save(Envelope(2)));

        Assert.Multiple(() =>
        {
            Assert.That(fs.InjectedFailures, Is.EqualTo(3), "one attempt and two retries");
            Assert.That(store.Files(), Is.EqualTo(new[] { first }));
            Assert.That(File.ReadAllBytes(first), Is.EqualTo(before));
            Assert.That(Directory.GetFiles(store.Directory, "*.tmp"), Is.Empty, "the partial temporary file is removed");
            Assert.That(store.LoadNewestValid().Envelope!.Generation, Is.EqualTo(1));
        });
    }

    [Test]
    public void Save_TransientFailure_IsRetriedAndSucceeds()
    {
        using var dir = new TempDir();
        var fs = new FaultyFileSystem(p => p.EndsWith(".tmp", StringComparison.Ordinal), failures: 1);
        var store = Store(dir, fs);
        store.Save(Envelope(1));
        Assert.That(fs.InjectedFailures, Is.EqualTo(1));
        Assert.That(store.LoadNewestValid().Envelope!.Generation, Is.EqualTo(1));
    }

    [Test]
    public void CleanTemporaries_LeftoverFromAKill_IsRemoved()
    {
        using var dir = new TempDir();
        var store = Store(dir);
        store.Save(Envelope(1));
        File.WriteAllBytes(Path.Combine(store.Directory, "ckpt-0000000002.l2ock.tmp"), [1, 2, 3]);
        store.CleanTemporaries();
        Assert.That(Directory.GetFiles(store.Directory).Select(Path.GetFileName), Is.EqualTo(new[] { "ckpt-0000000001.l2ock" }));
    }
}
