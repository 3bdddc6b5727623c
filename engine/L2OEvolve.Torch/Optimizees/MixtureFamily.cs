using static TorchSharp.torch;

namespace L2OEvolve.Torch.Optimizees;

/// <summary>
/// Several optimizee families as one, written <c>a;b;c</c> (e.g. <c>mlp-fashion;mlp-fashion:act=tanh;logreg</c>):
/// instance <c>seed</c> comes from family <c>seed mod n</c>. Meta-tuning and tuning-seed checks over a mixture see
/// every member, so a rule is not fitted to one network.
/// </summary>
public sealed class MixtureFamily(string name, IReadOnlyList<IOptimizeeFamily> members) : IOptimizeeFamily
{
    /// <summary>The member families, in the order written.</summary>
    public IReadOnlyList<IOptimizeeFamily> Members { get; } = members.Count > 0 ? members : throw new ArgumentException("a mixture needs at least one family");

    public string Name => name;

    public IOptimizee Create(long seed, Device device) => Members[(int)(((seed % Members.Count) + Members.Count) % Members.Count)].Create(seed, device);
}
