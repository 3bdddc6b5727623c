using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rules;

public class OpChainKernelTests
{
    [Test]
    public void Evaluate_ThreeStepsOfAdam_IsDifferentiableThroughTheState()
    {
        using var scope = NewDisposeScope();
        var program = RuleProgram.Compile(Infix.Parse("-0.001 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08) + lag(1, g)"));
        var plan = program.NewPlan();
        var g0 = tensor(new[] { 0.5f, -1f, 2f }).requires_grad_(true);
        IReadOnlyList<Tensor> state = Enumerable.Range(0, program.StateSlots).Select(_ => zeros(3)).ToArray();
        Tensor total = zeros(3);
        for (int step = 1; step <= 3; step++)
        {
            program.Fill(plan, step);
            var (update, next) = OpChainKernel.Evaluate(program, plan, g0.mul(step), state);
            total = total.add(update);
            state = next;
        }
        total.sum().backward();
        var grad = g0.grad!.data<float>().ToArray();
        Assert.That(grad.All(float.IsFinite), Is.True);
        Assert.That(grad.Any(v => v != 0f), Is.True);
    }

    [Test]
    public void Evaluate_ProtectedDivisionByZero_GivesOneAndFiniteGradients()
    {
        using var scope = NewDisposeScope();
        var program = RuleProgram.Compile(Infix.Parse("p / g"));
        var plan = program.NewPlan();
        program.Fill(plan, 1);
        var g = tensor(new[] { 0f, 2f }).requires_grad_(true);
        var p = tensor(new[] { 3f, 4f }).requires_grad_(true);
        var (update, _) = OpChainKernel.Evaluate(program, plan, g, [], p);
        Assert.That(update.data<float>().ToArray(), Is.EqualTo(new[] { 1f, 2f }));
        update.sum().backward();
        Assert.That(g.grad!.data<float>().ToArray().All(float.IsFinite), Is.True);
        Assert.That(p.grad!.data<float>().ToArray().All(float.IsFinite), Is.True);
    }

    [Test]
    public void Evaluate_SlotsBoundToTensors_GiveTheUpdateOfTheProgramWithThoseConstants()
    {
        // Betas included: the ema, its bias correction and the lag ring all read the bound tensors.
        using var scope = NewDisposeScope();
        var program = RuleProgram.Compile(Infix.Parse("-0.01 * ema_bc(0.9, g) / (sqrt(v) + 1e-8) + 0.5 * lag(2, ema(0.8, 2 * g))"));
        double[] values = [-0.02, 0.7, 1e-6, 0.25, 0.6, 3.0];
        var swapped = program.WithConstants(values);
        var (plan, swappedPlan) = (program.NewPlan(), swapped.NewPlan());
        var bound = values.Select(v => (Tensor?)tensor(v, ScalarType.Float64)).ToArray();
        IReadOnlyList<Tensor> state = Enumerable.Range(0, program.StateSlots).Select(_ => zeros(3)).ToArray();
        IReadOnlyList<Tensor> swappedState = state;
        for (int step = 1; step <= 4; step++)
        {
            var g = tensor(new[] { 0.5f * step, -1f, 2f / step });
            program.Fill(plan, step);
            swapped.Fill(swappedPlan, step);
            var (update, next) = OpChainKernel.Evaluate(program, plan, g, state, slots: bound);
            var (expected, swappedNext) = OpChainKernel.Evaluate(swapped, swappedPlan, g, swappedState);
            Assert.That(update.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()).Within(1e-6), $"step {step}");
            (state, swappedState) = (next, swappedNext);
        }
    }

    [Test]
    public void Evaluate_LeavesTheGivenStateUntouched()
    {
        using var scope = NewDisposeScope();
        var program = RuleProgram.Compile(Infix.Parse("m + g2"));
        var plan = program.NewPlan();
        program.Fill(plan, 1);
        var state = Enumerable.Range(0, program.StateSlots).Select(_ => ones(2)).ToArray();
        var (_, next) = OpChainKernel.Evaluate(program, plan, full(2, 5f), state);
        Assert.That(state.All(s => s.data<float>().ToArray().All(v => v == 1f)), Is.True);
        Assert.That(next.Count(n => !state.Any(s => ReferenceEquals(s, n))), Is.EqualTo(2), "the moving average and one ring slot change");
    }

    private static (double Value, double Grad) JuneUpdateSum(double lambda)
    {
        using var scope = NewDisposeScope();
        var program = RuleProgram.Compile(Infix.Parse("-0.01 * m / (1 - lam + lam * vs)"), coefficients: ["lam"]);
        var plan = program.NewPlan();
        var lam = tensor(lambda, ScalarType.Float64).requires_grad_(true);
        IReadOnlyList<Tensor> state = Enumerable.Range(0, program.StateSlots).Select(_ => zeros(3, ScalarType.Float64)).ToArray();
        Tensor total = zeros(3, ScalarType.Float64);
        for (int step = 1; step <= 4; step++)
        {
            program.Fill(plan, step);
            var g = tensor(new[] { 0.3 * step, -1.0, 2.0 / step });
            var (update, next) = OpChainKernel.Evaluate(program, plan, g, state, coefficients: [lam]);
            total = total.add(update);
            state = next;
        }
        var sum = total.sum();
        sum.backward();
        return (sum.item<double>(), lam.grad!.item<double>());
    }

    [Test]
    public void Evaluate_CoefficientTensor_GradientMatchesFiniteDifference()
    {
        var (_, grad) = JuneUpdateSum(0.8);
        double h = 1e-6;
        double numeric = (JuneUpdateSum(0.8 + h).Value - JuneUpdateSum(0.8 - h).Value) / (2 * h);
        Assert.That(grad, Is.Not.EqualTo(0.0));
        Assert.That(grad, Is.EqualTo(numeric).Within(1e-6 * Math.Abs(numeric) + 1e-9));
    }

    [Test]
    public unsafe void Evaluate_CoefficientTensor_AgreesWithFusedKernelGivenTheValue()
    {
        using var scope = NewDisposeScope();
        var program = RuleProgram.Compile(Infix.Parse("-0.01 * m / (1 - lam + lam * vs) + k * g1"), coefficients: ["lam", "k"]);
        var plan = program.NewPlan();
        plan.Coefficients[0] = 0.8;
        plan.Coefficients[1] = -0.5;
        var gs = new[] { new[] { 0.5f, -1f }, new[] { 0.2f, 3f }, new[] { -0.7f, 1f } };
        IReadOnlyList<Tensor> state = Enumerable.Range(0, program.StateSlots).Select(_ => zeros(2)).ToArray();
        var fusedState = new float[program.StateSlots * 2];
        var p = new float[2];
        var ws = new float[FusedKernel.WorkspaceFloats(program)];
        var chain = zeros(2);
        for (int step = 1; step <= 3; step++)
        {
            program.Fill(plan, step);
            var (update, next) = OpChainKernel.Evaluate(program, plan, tensor(gs[step - 1]), state, coefficients: [tensor(0.8f), tensor(-0.5f)]);
            chain = chain.add(update);
            state = next;
            fixed (float* pp = p) fixed (float* gp = gs[step - 1]) fixed (float* sp = fusedState)
                FusedKernel.Apply(program, plan, pp, gp, sp, 2, ws);
        }
        Assert.That(p, Is.EqualTo(chain.data<float>().ToArray()).Within(1e-6));
    }

    [Test]
    public void Compile_CoefficientNamedLikeAFeature_Throws()
    {
        Assert.Throws<ArgumentException>(() => RuleProgram.Compile(Infix.Parse("m * g"), coefficients: ["m"]));
    }
}
