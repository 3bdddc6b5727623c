using L2OEvolve.Engine.Random;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>Helpers shared by the families: seeded streams, long-lived constant tensors, parameter initialisation.</summary>
internal static class OptimizeeTensors
{
    // Independent random streams of one problem instance, forked from its seed.
    internal const ulong DataStream = 1, InitStream = 2, BatchStream = 3;

    internal static Rng Stream(long seed, ulong stream) => new Rng((ulong)seed).Fork(stream);

    /// <summary>A tensor owned by an optimizee instance: detached from any caller's dispose scope.</summary>
    internal static Tensor Constant(float[] values, long[] shape, Device device)
    {
        return OnDevice(torch.tensor(values, shape), device).DetachFromDisposeScope();
    }

    /// <summary>Moves a freshly made CPU tensor to <paramref name="device"/>, disposing the CPU copy when a move happened.</summary>
    internal static Tensor OnDevice(Tensor cpu, Device device)
    {
        var moved = cpu.to(device);
        if (!ReferenceEquals(moved, cpu)) cpu.Dispose();
        return moved;
    }

    /// <summary>Initial parameters for <paramref name="shapes"/>, drawn from the seed's init stream in order.</summary>
    internal static IReadOnlyList<Tensor> Initial(IReadOnlyList<long[]> shapes, IReadOnlyList<long> fanIns, ParameterInit init, long seed, Device device)
    {
        var rng = Stream(seed, InitStream);
        var result = new Tensor[shapes.Count];
        for (int i = 0; i < shapes.Count; i++)
        {
            int count = checked((int)shapes[i].Aggregate(1L, (a, d) => a * d));
            result[i] = OnDevice(torch.tensor(init.Draw(count, fanIns[i], ref rng), shapes[i]), device);
        }
        return result;
    }

    /// <summary>Minibatch indices of step <paramref name="step"/>: uniform with replacement, a pure function of (seed, step).</summary>
    internal static long[] BatchIndices(long seed, int step, int n, int batch)
    {
        var rng = Stream(seed, BatchStream).Fork((ulong)(uint)step);
        var idx = new long[batch];
        for (int i = 0; i < batch; i++) idx[i] = rng.NextInt(n);
        return idx;
    }

    internal static float[] Gaussian(ref Rng rng, int count, double std = 1.0)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(std * rng.NextGaussian());
        return v;
    }

    internal static void CheckStacked(IReadOnlyList<Tensor> stacked, IReadOnlyList<long[]> shapes, string name)
    {
        if (stacked.Count != shapes.Count)
            throw new ArgumentException($"{name}: expected {shapes.Count} stacked parameter tensors, got {stacked.Count}");
        long p = stacked[0].shape[0];
        for (int i = 0; i < shapes.Count; i++)
        {
            var s = stacked[i].shape;
            if (s.Length != shapes[i].Length + 1 || s[0] != p || !s.Skip(1).SequenceEqual(shapes[i]))
                throw new ArgumentException($"{name}: stacked parameter {i} has shape [{string.Join(", ", s)}], expected [{p}, {string.Join(", ", shapes[i])}]");
        }
    }
}
