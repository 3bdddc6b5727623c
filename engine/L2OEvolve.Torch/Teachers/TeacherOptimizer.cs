using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// A trained teacher applied as an ordinary optimizer (no gradients through it): the evaluation harness runs it
/// beside the baselines. It keeps the per-coordinate state of one run; the network itself is shared and not owned.
/// </summary>
public sealed class TeacherOptimizer : IParameterOptimizer
{
    private readonly TeacherNet _net;
    private readonly FlatParameters _layout;
    private TeacherState _state;

    /// <summary>A fresh run of <paramref name="net"/> on parameters shaped <paramref name="shapes"/>.</summary>
    public TeacherOptimizer(TeacherNet net, IReadOnlyList<long[]> shapes, Device device, string? name = null)
    {
        _net = net;
        _layout = new FlatParameters(shapes);
        using (NewDisposeScope()) _state = net.InitialState(_layout.Count, device).DetachFromScopes();
        Name = name ?? net.Config.DisplayName;
    }

    /// <summary>A factory the evaluation harness can call once per run.</summary>
    public static ParameterOptimizerFactory Factory(TeacherNet net, string? name = null) =>
        (shapes, device) => new TeacherOptimizer(net, shapes, device, name);

    public string Name { get; }

    public double StateFloatsPerParameter => _net.Config.StateFloatsPerCoordinate;

    public void Step(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> gradients, int step)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var g = FlatParameters.Flatten(gradients);
        var (u, next) = _net.Step(g, _state, step);
        var delta = _layout.Views(u.Times(_net.Config.OutputScale));
        for (int i = 0; i < parameters.Count; i++) parameters[i].PlusInPlace(delta[i]);
        var old = _state;
        _state = next.DetachFromScopes();
        old.Dispose();
    }

    public void Dispose() => _state.Dispose();
}
