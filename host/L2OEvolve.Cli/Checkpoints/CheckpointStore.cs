using System.Globalization;
using Polly;

namespace L2OEvolve.Cli.Checkpoints;

/// <summary>
/// One job's checkpoint directory: atomic writes (temporary file, flush to disk, rename), the last K kept, and a
/// reader that falls back from a corrupt or truncated newest file to the previous valid one.
/// </summary>
/// <remarks>
/// Files are named <c>ckpt-GGGGGGGGGG.l2ock</c> by generation, so lexical order is age order. A new checkpoint is
/// complete on disk before older ones are pruned, so a failure at any point (full disk, kill -9) leaves the
/// previous checkpoint intact.
/// </remarks>
public sealed class CheckpointStore(string directory, IFileSystem fileSystem, ResiliencePipeline io, int keep)
{
    private const string Prefix = "ckpt-";
    private const string Extension = ".l2ock";

    /// <summary>The directory holding the checkpoints.</summary>
    public string Directory => directory;

    /// <summary>Writes <paramref name="envelope"/> atomically and prunes all but the newest K; returns the path.</summary>
    /// <exception cref="IOException">The write failed even after the I/O pipeline's retries.</exception>
    public string Save(CheckpointEnvelope envelope)
    {
        var payload = envelope.ToBytes();
        string path = PathFor(envelope.Generation);
        io.Execute(() => CheckpointFile.WriteAtomically(fileSystem, path, payload));
        Prune();
        return path;
    }

    /// <summary>
    /// The newest checkpoint that passes its header and checksum checks, plus every newer file that did not
    /// (with the reason), newest first.
    /// </summary>
    public (CheckpointEnvelope? Envelope, string? Path, IReadOnlyList<CheckpointCorruptException> Rejected) LoadNewestValid()
    {
        var rejected = new List<CheckpointCorruptException>();
        foreach (var (envelope, path) in LoadValid(rejected)) return (envelope, path, rejected);
        return (null, null, rejected);
    }

    /// <summary>
    /// The checkpoints that pass their header and checksum checks, newest first, read one at a time (so a caller
    /// that also refuses some, e.g. another job's, falls back to older ones); each file that fails the checks is
    /// added to <paramref name="rejected"/> as it is met.
    /// </summary>
    public IEnumerable<(CheckpointEnvelope Envelope, string Path)> LoadValid(List<CheckpointCorruptException> rejected)
    {
        foreach (var path in Files().Reverse())
        {
            CheckpointEnvelope envelope;
            try
            {
                var bytes = io.Execute(() => fileSystem.ReadAllBytes(path));
                var payload = CheckpointFile.Unframe(bytes, path);
                envelope = CheckpointEnvelope.FromBytes(payload);
            }
            catch (CheckpointCorruptException e) { rejected.Add(e); continue; }
            catch (MessagePack.MessagePackSerializationException e)
            {
                rejected.Add(new CheckpointCorruptException(path, $"payload does not decode: {e.Message}"));
                continue;
            }
            yield return (envelope, path);
        }
    }

    /// <summary>Checkpoint files, oldest first.</summary>
    public IReadOnlyList<string> Files() =>
        fileSystem.List(directory, Prefix + "*" + Extension)
            .Where(p => GenerationOf(p) is not null)
            .OrderBy(p => GenerationOf(p))
            .ToList();

    /// <summary>Removes temporary files left by a write that was interrupted (kill -9, power loss); returns them.</summary>
    public IReadOnlyList<string> CleanTemporaries()
    {
        var temps = fileSystem.List(directory, Prefix + "*" + Extension + ".tmp");
        foreach (var temp in temps) TryDelete(temp);
        return temps;
    }

    private void Prune()
    {
        var files = Files();
        for (int i = 0; i < files.Count - keep; i++) TryDelete(files[i]);
    }

    private void TryDelete(string path)
    {
        try { fileSystem.Delete(path); }
        catch (IOException) { } // a leftover file costs disk space, not correctness
        catch (UnauthorizedAccessException) { }
    }

    private string PathFor(long generation) =>
        Path.Combine(directory, Prefix + generation.ToString("D10", CultureInfo.InvariantCulture) + Extension);

    private static long? GenerationOf(string path)
    {
        var name = Path.GetFileName(path);
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !name.EndsWith(Extension, StringComparison.Ordinal)) return null;
        var digits = name[Prefix.Length..^Extension.Length];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : null;
    }
}
