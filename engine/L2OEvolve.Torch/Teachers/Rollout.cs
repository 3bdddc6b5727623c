using L2OEvolve.Torch.Optimizees;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>Plain (no-grad) rollouts of a teacher on an optimizee: curriculum evaluation and quick checks.</summary>
public static class Rollout
{
    /// <summary>
    /// Runs <paramref name="net"/> for <paramref name="steps"/> updates from the optimizee's initial parameters and
    /// returns the training loss after each update (at θ_2 … θ_{T+1}, the points the meta-loss sums; docs/symbolic-l2o.md, 'Meta-training').
    /// A non-finite loss ends the run: the remaining entries are +∞.
    /// </summary>
    public static double[] Losses(TeacherNet net, IOptimizee optimizee, int steps, Device device)
    {
        var losses = new double[steps];
        Array.Fill(losses, double.PositiveInfinity);
        var layout = new FlatParameters(optimizee.ParameterShapes);
        Tensor theta, g; TeacherState state;
        using (NewDisposeScope())
        {
            theta = FlatParameters.Flatten(optimizee.InitialParameters()).to(device).detach().DetachFromDisposeScope();
            state = net.InitialState(layout.Count, device).DetachFromScopes();
            g = Gradient(optimizee, layout, theta, 1, out _).DetachFromDisposeScope();
        }
        try
        {
            for (int k = 1; k <= steps; k++)
            {
                using var step = NewDisposeScope();
                Tensor next; TeacherState nextState;
                using (no_grad())
                {
                    var (u, s) = net.Step(g, state, k);
                    next = theta.Plus(u.Times(net.Config.OutputScale));
                    nextState = s;
                }
                var gNext = Gradient(optimizee, layout, next, k + 1, out double loss);
                if (!double.IsFinite(loss)) break;
                losses[k - 1] = loss;
                theta.Dispose(); g.Dispose(); state.Dispose();
                (theta, g, state) = (next.DetachFromDisposeScope(), gNext.DetachFromDisposeScope(), nextState.DetachFromScopes());
            }
        }
        finally
        {
            theta.Dispose(); g.Dispose(); state.Dispose();
        }
        return losses;
    }

    /// <summary>The detached gradient of the minibatch-<paramref name="step"/> loss at <paramref name="theta"/>, and the loss.</summary>
    internal static Tensor Gradient(IOptimizee optimizee, FlatParameters layout, Tensor theta, int step, out double loss)
    {
        using var scope = NewDisposeScope();
        var leaf = theta.detach().requires_grad_(true);
        var l = optimizee.Loss(layout.Views(leaf), step);
        var g = autograd.grad([l], [leaf])[0];
        loss = l.item<float>();
        return g.detach().MoveToOuterDisposeScope();
    }
}
