using L2OEvolve.Torch.Teachers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace L2OEvolve.Torch.Tests.Teachers;

public class FusedTeacherStepTests
{
    // 600 rows: three blocks of 256, the last one partial.
    private const long Rows = 600;

    private sealed record Case(FusedTeacherStep.Layout Layout, Tensor X, Tensor[] H, Tensor[] C, Tensor[] Weights);

    private static Case Make(FusedTeacherStep.Layout layout, int seed)
    {
        manual_seed(seed);
        var weights = new List<Tensor>();
        for (int p = 0; p < layout.Pre.Length; p++)
        {
            weights.Add(randn(layout.Pre[p], layout.PreInput(p)) * 0.5);
            weights.Add(randn(layout.Pre[p]) * 0.5);
        }
        for (int l = 0; l < layout.Hidden.Length; l++)
        {
            int hd = layout.Hidden[l];
            weights.Add(randn(4 * hd, layout.CellInput(l)) * 0.3);
            weights.Add(randn(4 * hd, hd) * 0.3);
            weights.Add(randn(4 * hd) * 0.3);
            weights.Add(randn(4 * hd) * 0.3);
        }
        weights.Add(randn(1, layout.Hidden[^1]) * 0.5);
        weights.Add(randn(1) * 0.5);
        return new Case(layout, randn(Rows, layout.Input),
            [.. layout.Hidden.Select(hd => randn(Rows, hd) * 0.5)], [.. layout.Hidden.Select(hd => randn(Rows, hd))], [.. weights]);
    }

    // The same network from libtorch's own operations: the reference path.
    private static (Tensor U, Tensor[] H, Tensor[] C) Reference(FusedTeacherStep.Layout layout, Tensor x, Tensor[] h, Tensor[] c, Tensor[] w)
    {
        int wi = 0;
        var y = x;
        for (int p = 0; p < layout.Pre.Length; p++, wi += 2) y = F.elu(F.linear(y, w[wi], w[wi + 1]), 1.0);
        var hs = new Tensor[h.Length];
        var cs = new Tensor[h.Length];
        for (int l = 0; l < h.Length; l++, wi += 4)
        {
            var gates = F.linear(y, w[wi], w[wi + 2]) + F.linear(h[l], w[wi + 1], w[wi + 3]);
            var parts = gates.chunk(4, 1);
            cs[l] = parts[1].sigmoid() * c[l] + parts[0].sigmoid() * parts[2].tanh();
            hs[l] = parts[3].sigmoid() * cs[l].tanh();
            y = hs[l];
        }
        var u = F.linear(y, w[wi], w[wi + 1]).squeeze(-1);
        return (layout.Tanh ? u.tanh() : u, hs, cs);
    }

    private sealed record Outcome(Tensor U, Tensor[] H, Tensor[] C, Tensor?[] Grads);

    // Runs one step and backpropagates Σ u·a + Σ_l (h'_l·b_l + c'_l·d_l) with fixed random a, b, d; gradients of
    // the states (when they require one) and of every weight.
    private static Outcome Run(Case k, bool fused, bool stateNeedsGrad = true, ActivationPool? pool = null)
    {
        var h = k.H.Select(t => t.clone().requires_grad_(stateNeedsGrad)).ToArray();
        var c = k.C.Select(t => t.clone().requires_grad_(stateNeedsGrad)).ToArray();
        var w = k.Weights.Select(t => t.clone().requires_grad_(true)).ToArray();
        var (u, hs, cs) = fused ? FusedTeacherStep.Step(k.Layout, k.X, h, c, w, pool) : Reference(k.Layout, k.X, h, c, w);
        manual_seed(99);
        var loss = (u * randn(Rows)).sum();
        for (int l = 0; l < hs.Length; l++) loss = loss + (hs[l] * randn(hs[l].shape)).sum() + (cs[l] * randn(cs[l].shape)).sum();
        loss.backward();
        return new Outcome(u.detach(), [.. hs.Select(t => t.detach())], [.. cs.Select(t => t.detach())],
            [.. h.Select(t => t.grad), .. c.Select(t => t.grad), .. w.Select(t => t.grad)]);
    }

    private static void AssertClose(Tensor actual, Tensor expected, string what)
    {
        // Relative to the largest magnitude: weight gradients are sums over all rows.
        double scale = Math.Max(1.0, expected.abs().max().item<float>());
        double err = (actual - expected).abs().max().item<float>();
        Assert.That(err / scale, Is.LessThan(5e-6), $"{what}: max |diff| {err:E2} at scale {scale:G3}");
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().item<bool>();

    [TestCase(2, new[] { 20 }, new[] { 20, 20 }, true, TestName = "Step_Rnnprop_MatchesLibTorchOps")]
    [TestCase(1, new int[0], new[] { 20, 20 }, false, TestName = "Step_DmWithoutPreprocessingOrTanh_MatchesLibTorchOps")]
    [TestCase(5, new[] { 9 }, new[] { 12 }, true, TestName = "Step_RpSi_MatchesLibTorchOps")]
    [TestCase(3, new[] { 6, 11 }, new[] { 7, 5 }, true, TestName = "Step_TwoPreprocessingLayersNarrowCells_MatchesLibTorchOps")]
    public void Step_ValuesAndGradients_MatchTheLibTorchComposition(int input, int[] pre, int[] hidden, bool tanh)
    {
        var layout = new FusedTeacherStep.Layout(input, pre, hidden, tanh);
        using var scope = NewDisposeScope();
        var k = Make(layout, 3);
        var fused = Run(k, fused: true);
        var reference = Run(k, fused: false);
        AssertClose(fused.U, reference.U, "u");
        for (int l = 0; l < layout.Hidden.Length; l++)
        {
            AssertClose(fused.H[l], reference.H[l], $"h'{l}");
            AssertClose(fused.C[l], reference.C[l], $"c'{l}");
        }
        Assert.That(fused.Grads.Length, Is.EqualTo(reference.Grads.Length));
        for (int i = 0; i < fused.Grads.Length; i++)
        {
            Assert.That(fused.Grads[i], Is.Not.Null, $"gradient {i}");
            AssertClose(fused.Grads[i]!, reference.Grads[i]!, $"gradient {i}");
        }
    }

    [Test]
    public void Step_StateWithoutGradient_OnlyWeightsReceiveGradients()
    {
        using var scope = NewDisposeScope();
        var k = Make(new FusedTeacherStep.Layout(2, [20], [20, 20], true), 4);
        var fused = Run(k, fused: true, stateNeedsGrad: false);
        var reference = Run(k, fused: false, stateNeedsGrad: false);
        Assert.That(fused.Grads.Take(4), Is.All.Null);
        for (int i = 4; i < fused.Grads.Length; i++) AssertClose(fused.Grads[i]!, reference.Grads[i]!, $"gradient {i}");
    }

    [Test]
    public void Step_AnyThreadCount_SameBits()
    {
        using var scope = NewDisposeScope();
        var k = Make(new FusedTeacherStep.Layout(2, [20], [20, 20], true), 5);
        int before = get_num_threads();
        try
        {
            set_num_threads(1);
            var one = Run(k, fused: true);
            set_num_threads(2);
            var two = Run(k, fused: true);
            Assert.That(Same(one.U, two.U), Is.True, "u");
            for (int i = 0; i < one.Grads.Length; i++) Assert.That(Same(one.Grads[i]!, two.Grads[i]!), Is.True, $"gradient {i}");
        }
        finally { set_num_threads(before); }
    }

    [Test]
    public void Step_WithoutAutograd_GivesTheSameBitsAsTheRecordedStep()
    {
        using var scope = NewDisposeScope();
        var k = Make(new FusedTeacherStep.Layout(2, [20], [20, 20], true), 6);
        var recorded = FusedTeacherStep.Step(k.Layout, k.X, k.H, k.C, [.. k.Weights.Select(w => w.clone().requires_grad_(true))]);
        (Tensor U, Tensor[] H, Tensor[] C) plain;
        using (no_grad()) plain = FusedTeacherStep.Step(k.Layout, k.X, k.H, k.C, k.Weights);
        Assert.That(recorded.U.requires_grad, Is.True);
        Assert.That(plain.U.requires_grad, Is.False);
        Assert.That(Same(recorded.U.detach(), plain.U), Is.True);
        for (int l = 0; l < 2; l++)
            Assert.That(Same(recorded.H[l].detach(), plain.H[l]) && Same(recorded.C[l].detach(), plain.C[l]), Is.True, $"layer {l}");
    }

    [Test]
    public void Step_NaNInOneRow_StaysInThatRow()
    {
        using var scope = NewDisposeScope();
        var k = Make(new FusedTeacherStep.Layout(2, [20], [20, 20], true), 7);
        k.X[17, 1] = tensor(float.NaN);
        (Tensor U, Tensor[] H, Tensor[] C) r;
        using (no_grad()) r = FusedTeacherStep.Step(k.Layout, k.X, k.H, k.C, k.Weights);
        Assert.That(r.U[17].isnan().item<bool>(), Is.True, "the NaN row");
        Assert.That(r.U.isnan().sum().item<long>(), Is.EqualTo(1), "only that row");
    }

    [Test]
    public void Forward_KeepsOnlyEachCellsGatesBesideItsOutputs()
    {
        // A meta-training window holds every step's saved tensors until its backward: the preprocessing outputs
        // and tanh c' are recomputed there instead of kept.
        using var scope = NewDisposeScope();
        var layout = new FusedTeacherStep.Layout(3, [6, 11], [7, 5], true);
        var k = Make(layout, 8);
        var f = FusedTeacherStep.Forward(layout, k.X, k.H, k.C, k.Weights);
        Assert.That(f.Saved.Select(t => t.shape), Is.EqualTo(layout.Hidden.Select(hd => new[] { Rows, 4L * hd })));
    }

    [Test]
    public unsafe void Forward_GatesAreExactlyTheSigmoidOfTheWholeProduct_HoweverTheRowsAreSplitIntoBlocks()
    {
        // The forward runs the product and σ block by block (on threads when there are several); every gate must
        // still be its row's chain, then σ: the bits of one product over all rows followed by one σ pass.
        using var scope = NewDisposeScope();
        var layout = new FusedTeacherStep.Layout(3, [], [20], false);
        var k = Make(layout, 10);
        var f = FusedTeacherStep.Forward(layout, k.X, k.H, k.C, k.Weights);
        int inputs = 3, hidden = 20, g4 = 80;
        var packed = new float[(inputs + hidden + 1) * g4];
        var expected = new float[Rows * g4];
        fixed (float* w = packed, e = expected)
        {
            FusedLstmCell.PackForward(FusedLstmCell.Ptr(k.Weights[0]), FusedLstmCell.Ptr(k.Weights[1]), FusedLstmCell.Ptr(k.Weights[2]),
                FusedLstmCell.Ptr(k.Weights[3]), inputs, hidden, w);
            LstmGemm.RowsTimes((int)Rows, FusedLstmCell.Ptr(k.X), inputs, w, FusedLstmCell.Ptr(k.H[0]), hidden, w + inputs * g4,
                w + (inputs + hidden) * g4, e, g4);
            LstmMath.SigmoidInPlace(e, Rows * g4);
        }
        Assert.That(f.Saved[0].data<float>().ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Step_WithAPool_SameBitsAsWithout_AndTheNextStepReusesItsMemory()
    {
        var k = Make(new FusedTeacherStep.Layout(2, [20], [20, 20], true), 9);
        using var pool = new ActivationPool();
        Outcome plain, first, second;
        int blocks;
        using (var scope = NewDisposeScope())
        {
            plain = Run(k, fused: true);
            first = Run(k, fused: true, pool: pool);
            blocks = pool.Blocks;
            Assert.That(blocks, Is.EqualTo(1 + 3 * 2 + 2 * 2), "u, per cell gates, h' and c', and the gradients of h and c");
            Assert.That(Same(first.U, plain.U), Is.True, "u");
            for (int l = 0; l < 2; l++)
                Assert.That(Same(first.H[l], plain.H[l]) && Same(first.C[l], plain.C[l]), Is.True, $"layer {l}");
            for (int i = 0; i < plain.Grads.Length; i++) Assert.That(Same(first.Grads[i]!, plain.Grads[i]!), Is.True, $"gradient {i}");
            scope.DisposeEverything();
        }
        GradientHandOff.ReleasePrevious();   // the handles of the last backward's state gradients
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.That(pool.InUse, Is.EqualTo(0), "the step's tensors are gone");
        using (NewDisposeScope())
        {
            second = Run(k, fused: true, pool: pool);
            Assert.That(pool.Blocks, Is.EqualTo(blocks), "no new memory");
            Assert.That(second.U.sum().item<float>(), Is.EqualTo(Run(k, fused: true).U.sum().item<float>()));
        }
    }
}
