using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using L2OEvolve.Cli.Checkpoints;
using L2OEvolve.Cli.Jobs;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Torch.Tests.Daemon;

/// <summary>
/// A job kind for exercising the runner in-process: its "search" is a seeded hash chain, so every generation's
/// state is known and a resumed run must land on exactly the same value. Behaviour hooks inject failures and hangs.
/// </summary>
internal sealed class ChainJobFactory(string kind = "chain") : ISearchJobFactory
{
    /// <summary>Called before every step with the generation about to run; may throw or block to simulate faults.</summary>
    public Action<long, CancellationToken>? BeforeStep { get; init; }

    /// <summary>Called when a fresh job builds its initial state; may block until cancelled (a huge initial population).</summary>
    public Action<CancellationToken>? BeforeStart { get; init; }

    /// <summary>The job's "evaluations": each generation scores one candidate with it and mixes the loss into the chain.</summary>
    public IFitness? Fitness { get; init; }

    /// <summary>Changes the fingerprint's "settings.width" field (simulates an incompatible settings change).</summary>
    public string Width { get; init; } = "4";

    public string Kind => kind;

    public IReadOnlyList<JobFault> Validate(JobSpec spec) =>
        spec.Settings.Keys.Where(k => k != "width").Select(k => new JobFault("", $"settings.{k}", "unknown setting")).ToList();

    public IPreparedJob Prepare(JobSpec spec) => new Prepared(this, spec);

    private sealed class Prepared(ChainJobFactory factory, JobSpec spec) : IPreparedJob
    {
        public IReadOnlyDictionary<string, string> Fingerprint { get; } = new Dictionary<string, string>
        {
            ["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture),
            ["settings.width"] = factory.Width,
            ["grammar.content"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(spec.Grammar))),
        };

        public ISearchJob Start(CancellationToken cancellationToken = default)
        {
            factory.BeforeStart?.Invoke(cancellationToken);
            return new ChainJob(factory, 0, spec.Seed);
        }

        public ISearchJob Resume(byte[] state) =>
            new ChainJob(factory, BinaryPrimitives.ReadInt64LittleEndian(state), BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(8)));
    }
}

internal sealed class ChainJob(ChainJobFactory factory, long generation, ulong value) : ISearchJob
{
    public long Generation => generation;
    public long Evaluations => generation * 10;
    public bool IsConverged => false;
    public ulong Value => value;

    public IReadOnlyList<FrontPoint> Front =>
        [new(1, (value % 1000) / 1000.0, "x"), new(3, (value % 100) / 1000.0, "x*c")];

    public ISearchJob Step(CancellationToken ct)
    {
        factory.BeforeStep?.Invoke(generation, ct);
        ulong mixed = value;
        if (factory.Fitness is { } fitness)
        {
            var loss = new double[fitness.ObjectiveCount];
            fitness.Evaluate([new Expr.Const(generation)], loss, new FitnessRequest(1, value, (int)generation), ct);
            mixed ^= BitConverter.DoubleToUInt64Bits(loss[0]);
        }
        ulong z = mixed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return new ChainJob(factory, generation + 1, z ^ (z >> 31));
    }

    public byte[] SaveState()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, generation);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), value);
        return bytes;
    }

    public JobReport Report() => new($"generation|value\n{generation}|{value}\n", $"chain value {value} after {generation} generations\n");
}

/// <summary>
/// The real file system with injectable faults: writes to matching files fail after some bytes (a full disk),
/// optionally only for the first few attempts (a transient fault).
/// </summary>
internal sealed class FaultyFileSystem(Func<string, bool> failWritesTo, int failures = int.MaxValue) : IFileSystem
{
    private int _remaining = failures;

    /// <summary>Writes that were made to fail.</summary>
    public int InjectedFailures { get; private set; }

    public Stream Create(string path)
    {
        var inner = PhysicalFileSystem.Instance.Create(path);
        if (!failWritesTo(path) || Interlocked.Decrement(ref _remaining) < 0) return inner;
        InjectedFailures++;
        return new DiskFullStream(inner, allowBytes: 10);
    }

    public byte[] ReadAllBytes(string path) => PhysicalFileSystem.Instance.ReadAllBytes(path);
    public void Move(string from, string to) => PhysicalFileSystem.Instance.Move(from, to);
    public void Delete(string path) => PhysicalFileSystem.Instance.Delete(path);
    public bool Exists(string path) => PhysicalFileSystem.Instance.Exists(path);
    public IReadOnlyList<string> List(string directory, string pattern) => PhysicalFileSystem.Instance.List(directory, pattern);
    public void CreateDirectory(string path) => PhysicalFileSystem.Instance.CreateDirectory(path);

    /// <summary>Accepts <c>allowBytes</c> bytes, then fails as a full disk does (ENOSPC surfaces as an IOException).</summary>
    private sealed class DiskFullStream(Stream inner, int allowBytes) : Stream
    {
        private int _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int room = Math.Max(0, allowBytes - _written);
            inner.Write(buffer[..Math.Min(room, buffer.Length)]);
            _written += Math.Min(room, buffer.Length);
            if (buffer.Length > room) throw new IOException("No space left on device", 28);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>A fresh temporary directory per test, removed afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("l2o-daemon-test-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class Specs
{
    /// <summary>A valid chain-job spec whose data and grammar files exist in <paramref name="dir"/>.</summary>
    public static JobSpec Chain(TempDir dir, string name, long? generations, ulong seed = 7, double? seconds = null)
    {
        if (!System.IO.File.Exists(dir.File("data.csv"))) System.IO.File.WriteAllText(dir.File("data.csv"), "x,y\n1,2\n");
        if (!System.IO.File.Exists(dir.File("grammar.json"))) System.IO.File.WriteAllText(dir.File("grammar.json"), "{}");
        return new JobSpec(name, "chain", DateTimeOffset.UnixEpoch, dir.File("data.csv"), null, [], dir.File("grammar.json"),
            new JobBudget(generations, seconds, null), seed, 1, ImmutableSortedDictionary<string, string>.Empty);
    }

    /// <summary>Writes <paramref name="spec"/> as the job file, as <c>submit</c> does.</summary>
    public static void Submit(JobHome home, JobSpec spec) => home.WriteAtomically(home.SpecPath(spec.Name), spec.ToJson());

    /// <summary>The chain value in a chain job's newest checkpoint (equal values: identical histories).</summary>
    public static ulong ChainValue(JobHome home, string name) =>
        new ChainJobFactory().Prepare(home.ReadSpec(name).Spec!)
            .Resume(home.Checkpoints(name, 3).LoadNewestValid().Envelope!.State) is ChainJob j ? j.Value : 0;
}

/// <summary>A fitness whose behaviour per call is scripted: a value, a failure, or a hang that ignores cancellation.</summary>
/// <param name="score">(generation, call number from 1, token) → loss.</param>
internal sealed class ScriptedFitness(Func<int, int, CancellationToken, double> score) : IFitness
{
    private int _calls;

    /// <summary>Calls made so far (attempts included).</summary>
    public int Calls => Volatile.Read(ref _calls);

    public int ObjectiveCount => 1;
    public double BaselineLoss => 1;
    public bool IsDeterministic => true;

    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        int call = Interlocked.Increment(ref _calls);
        for (int i = 0; i < candidates.Length; i++) objectives[i] = score(request.Generation, call, ct) + i;
    }
}
