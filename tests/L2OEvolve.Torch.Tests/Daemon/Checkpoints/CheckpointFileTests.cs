using L2OEvolve.Cli.Checkpoints;

namespace L2OEvolve.Torch.Tests.Daemon.Checkpoints;

public class CheckpointFileTests
{
    private static readonly byte[] Payload = Enumerable.Range(0, 200).Select(i => (byte)(i * 7)).ToArray();

    [Test]
    public void Unframe_FramedPayload_ReturnsItUnchanged()
    {
        var framed = CheckpointFile.Frame(Payload);
        Assert.That(CheckpointFile.Unframe(framed, "f").ToArray(), Is.EqualTo(Payload));
    }

    [Test]
    public void Unframe_TruncatedPayload_ReportsTruncation()
    {
        var framed = CheckpointFile.Frame(Payload)[..^5];
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Unframe(framed, "f"))!;
        Assert.That(e.Fault, Does.StartWith("truncated"));
    }

    [Test]
    public void Unframe_TruncatedHeader_ReportsTruncation()
    {
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Unframe(CheckpointFile.Frame(Payload)[..20], "f"))!;
        Assert.That(e.Fault, Does.StartWith("truncated"));
    }

    [Test]
    public void Unframe_FlippedPayloadBit_ReportsChecksumMismatch()
    {
        var framed = CheckpointFile.Frame(Payload);
        framed[CheckpointFile.HeaderSize + 100] ^= 0x10;
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Unframe(framed, "f"))!;
        Assert.That(e.Fault, Does.Contain("checksum"));
    }

    [Test]
    public void Unframe_OtherFile_ReportsBadMagic()
    {
        var bytes = new byte[100];
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Unframe(bytes, "f"))!;
        Assert.That(e.Fault, Does.Contain("magic"));
    }

    [Test]
    public void Unframe_FutureSchema_ReportsVersion()
    {
        var framed = CheckpointFile.Frame(Payload);
        framed[8] = 99;
        var e = Assert.Throws<CheckpointCorruptException>(() => CheckpointFile.Unframe(framed, "f"))!;
        Assert.That(e.Fault, Does.Contain("schema version 99"));
    }
}
