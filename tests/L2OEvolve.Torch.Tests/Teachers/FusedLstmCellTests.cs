using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Teachers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Teachers;

public class FusedLstmCellTests
{
    // 600 rows: three blocks of elementwise work, the last one partial.
    private const long Rows = 600;

    private sealed record Outcome(Tensor H, Tensor C, Tensor?[] Grads);

    private static LSTMCell Cell(long input, long hidden, int seed)
    {
        manual_seed(seed);
        return nn.LSTMCell(input, hidden);
    }

    /// <summary>Runs one step with either kernel and backpropagates Σ h'·wh + Σ c'·wc (a term is left out when its weight is null).</summary>
    private static Outcome Run(LSTMCell cell, bool fused, Tensor x, Tensor h, Tensor c, Tensor? wh, Tensor? wc, bool inputsNeedGrad = true)
    {
        foreach (var p in cell.parameters()) p.grad = null;
        var (xi, hi, ci) = (x.clone().requires_grad_(inputsNeedGrad), h.clone().requires_grad_(inputsNeedGrad), c.clone().requires_grad_(inputsNeedGrad));
        var (h1, c1) = fused ? FusedLstmCell.Step(cell, xi, hi, ci) : cell.call(xi, (hi, ci));
        Tensor loss = zeros(1);
        if (wh is not null) loss = loss + (h1 * wh).sum();
        if (wc is not null) loss = loss + (c1 * wc).sum();
        loss.backward();
        Tensor?[] grads = [xi.grad?.clone(), hi.grad?.clone(), ci.grad?.clone(), .. cell.parameters().Select(p => p.grad?.clone())];
        return new Outcome(h1.detach(), c1.detach(), grads);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().item<bool>();

    private static void AssertClose(Tensor actual, Tensor expected, string what)
    {
        // Relative to the largest magnitude: weight gradients are sums over all rows.
        double scale = Math.Max(1.0, expected.abs().max().item<float>());
        double err = (actual - expected).abs().max().item<float>();
        Assert.That(err / scale, Is.LessThan(2e-6), $"{what}: max |diff| {err:E2} at scale {scale:G3}");
    }

    private static void AssertSame(Outcome fused, Outcome reference)
    {
        string[] names = ["dx", "dh", "dc", "dW_ih", "dW_hh", "db_ih", "db_hh"];
        AssertClose(fused.H, reference.H, "h'");
        AssertClose(fused.C, reference.C, "c'");
        for (int i = 0; i < names.Length; i++)
        {
            Assert.That(fused.Grads[i] is null, Is.EqualTo(reference.Grads[i] is null), $"{names[i]} defined");
            if (reference.Grads[i] is { } r) AssertClose(fused.Grads[i]!, r, names[i]);
        }
    }

    [TestCase(5, 20)]   // RNNprop's width: two 8-lane vectors and an overlapping one per gate block
    [TestCase(6, 7)]    // RP_s: rows narrower than a vector run the scalar path
    [TestCase(9, 12)]   // RP_si
    [TestCase(20, 33)]
    public void Step_ValuesAndGradients_MatchLibTorchLstmCell(int input, int hidden)
    {
        using var scope = NewDisposeScope();
        using var cell = Cell(input, hidden, 11);
        var (x, h, c) = (randn(Rows, input), randn(Rows, hidden), randn(Rows, hidden) * 2);
        var (wh, wc) = (randn(Rows, hidden), randn(Rows, hidden));
        AssertSame(Run(cell, true, x, h, c, wh, wc), Run(cell, false, x, h, c, wh, wc));
    }

    [TestCase(true, false, TestName = "Step_OnlyHiddenOutputUsed_UndefinedCellGradientCountsAsZero")]
    [TestCase(false, true, TestName = "Step_OnlyCellOutputUsed_UndefinedHiddenGradientCountsAsZero")]
    public void Step_OneOutputUnused_ItsUndefinedGradientCountsAsZero(bool useHidden, bool useCell)
    {
        using var scope = NewDisposeScope();
        using var cell = Cell(4, 20, 3);
        var (x, h, c) = (randn(Rows, 4), randn(Rows, 20), randn(Rows, 20));
        var (wh, wc) = (useHidden ? randn(Rows, 20) : null, useCell ? randn(Rows, 20) : null);
        AssertSame(Run(cell, true, x, h, c, wh, wc), Run(cell, false, x, h, c, wh, wc));
    }

    [Test]
    public void Step_InputsWithoutGradient_OnlyWeightsReceiveGradients()
    {
        using var scope = NewDisposeScope();
        using var cell = Cell(2, 20, 5);
        var (x, h, c) = (randn(Rows, 2), randn(Rows, 20), randn(Rows, 20));
        var (wh, wc) = (randn(Rows, 20), randn(Rows, 20));
        var fused = Run(cell, true, x, h, c, wh, wc, inputsNeedGrad: false);
        Assert.That(fused.Grads.Take(3), Is.All.Null);
        AssertSame(fused, Run(cell, false, x, h, c, wh, wc, inputsNeedGrad: false));
    }

    [Test]
    public void Step_WithoutAutograd_GivesTheSameBitsAsTheRecordedStep()
    {
        using var scope = NewDisposeScope();
        using var cell = Cell(3, 20, 6);
        var (x, h, c) = (randn(Rows, 3).requires_grad_(true), randn(Rows, 20), randn(Rows, 20));
        var (hr, cr) = FusedLstmCell.Step(cell, x, h, c);
        Tensor hn, cn;
        using (no_grad()) (hn, cn) = FusedLstmCell.Step(cell, x, h, c);
        Assert.That(hr.requires_grad, Is.True);
        Assert.That(hn.requires_grad, Is.False);
        Assert.That(Same(hr.detach(), hn) && Same(cr.detach(), cn), Is.True);
    }

    [TestCase(20, 20)]
    [TestCase(3, 7)]
    public void ForwardAndBackward_AnyThreadCount_SameBits(int input, int hidden)
    {
        using var scope = NewDisposeScope();
        var rng = new Rng(9);
        Tensor Rand(params long[] shape) =>
            tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray(), shape);
        var (x, h, c, dh, dc) = (Rand(Rows, input), Rand(Rows, hidden), Rand(Rows, hidden) * 3, Rand(Rows, hidden), Rand(Rows, hidden));
        var (wih, whh, bih, bhh) = (Rand(4 * hidden, input), Rand(4 * hidden, hidden), Rand(4 * hidden), Rand(4 * hidden));
        int before = get_num_threads();
        try
        {
            Tensor[] Pass(int threads)
            {
                set_num_threads(threads);
                var (h1, c1, gates, tau) = FusedLstmCell.Forward(x, h, c, wih, whh, bih, bhh);
                var grads = FusedLstmCell.Backward(x, h, c, wih, whh, gates, tau, dh, dc, FusedLstmCell.Needs.All);
                return [h1, c1, gates, tau, .. grads.Select(g => g!)];
            }
            var one = Pass(1);
            var two = Pass(2);
            for (int i = 0; i < one.Length; i++) Assert.That(Same(one[i], two[i]), Is.True, $"output {i}");
        }
        finally { set_num_threads(before); }
    }

    [Test]
    public void Step_NaNInRow_StaysInThatRow()
    {
        using var scope = NewDisposeScope();
        using var cell = Cell(2, 20, 7);
        var x = randn(Rows, 2);
        x[17, 1] = tensor(float.NaN);
        Tensor h1, c1;
        using (no_grad()) (h1, c1) = FusedLstmCell.Step(cell, x, zeros(Rows, 20), zeros(Rows, 20));
        Assert.That(h1[17].isnan().all().item<bool>() && c1[17].isnan().all().item<bool>(), Is.True, "the NaN row");
        Assert.That(h1.isnan().sum().item<long>(), Is.EqualTo(20), "only that row");
    }

    [Test]
    public void Step_HugePreactivations_SaturateWithoutOverflow()
    {
        using var scope = NewDisposeScope();
        using var cell = Cell(2, 20, 8);
        using (no_grad()) foreach (var p in cell.parameters()) p.mul_(1e4);
        Tensor h1, c1;
        using (no_grad()) (h1, c1) = FusedLstmCell.Step(cell, randn(Rows, 2) * 1e3, zeros(Rows, 20), randn(Rows, 20));
        Assert.That(h1.isfinite().all().item<bool>() && c1.isfinite().all().item<bool>(), Is.True);
        Assert.That(h1.abs().max().item<float>(), Is.LessThanOrEqualTo(1f));
    }

    [Test]
    public void Supports_Float32OnCpuOnly()
    {
        using var scope = NewDisposeScope();
        Assert.That(FusedLstmCell.Supports(zeros(2, 2)), Is.True);
        Assert.That(FusedLstmCell.Supports(zeros(2, 2, dtype: ScalarType.Float64)), Is.False);
    }

    // Hidden widths taking 16-lane vectors (where AVX-512 runs), 8-lane ones with an overlapping last one, and both.
    [TestCase(20)]
    [TestCase(24)]
    [TestCase(40)]
    [TestCase(9)]
    public unsafe void RowPasses_EveryVectorPath_GivesTheScalarFormulasBits(int h)
    {
        var rng = new Rng(5);
        float[] R(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (float)((2 * rng.NextDouble() - 1) * scale))];
        float[] s = R(4 * h, 1), c = R(h, 2), dh = R(h, 1), dc = R(h, 1);
        for (int j = 0; j < s.Length; j++) s[j] = LstmMath.Sigmoid(3 * s[j]);
        float[] cn = new float[h], tau = new float[h], hn = new float[h], dA = new float[4 * h], dcPrev = new float[h];
        float[] dA2 = new float[4 * h], dcPrev2 = new float[h];
        fixed (float* ps = s, pc = c, pcn = cn, pt = tau, phn = hn, pdh = dh, pdc = dc, pdA = dA, pdcp = dcPrev, pdA2 = dA2, pdcp2 = dcPrev2)
        {
            FusedLstmCell.CellRow(ps, pc, pcn, pt, phn, h);
            FusedLstmCell.BackwardRow(ps, pt, null, pc, pdh, pdc, pdA, pdcp, h);
            // τ recomputed from c' instead of read: the same bits.
            FusedLstmCell.BackwardRow(ps, null, pcn, pc, pdh, pdc, pdA2, pdcp2, h);
        }
        Assert.That(dA2, Is.EqualTo(dA), "dA with τ recomputed");
        Assert.That(dcPrev2, Is.EqualTo(dcPrev), "dc with τ recomputed");
        static int Bits(float x) => BitConverter.SingleToInt32Bits(x);
        for (int j = 0; j < h; j++)
        {
            float i = s[j], f = s[h + j], g = 2f * s[2 * h + j] - 1f, o = s[3 * h + j];
            float cj = f * c[j] + i * g, t = 2f * LstmMath.Sigmoid(2f * cj) - 1f;
            Assert.That(Bits(cn[j]), Is.EqualTo(Bits(cj)), $"c'[{j}]");
            Assert.That(Bits(tau[j]), Is.EqualTo(Bits(t)), $"τ[{j}]");
            Assert.That(Bits(hn[j]), Is.EqualTo(Bits(o * t)), $"h'[{j}]");
            float delta = dc[j] + dh[j] * o * (1f - t * t);
            Assert.That(Bits(dA[j]), Is.EqualTo(Bits(delta * g * i * (1f - i))), $"dA_i[{j}]");
            Assert.That(Bits(dA[h + j]), Is.EqualTo(Bits(delta * c[j] * f * (1f - f))), $"dA_f[{j}]");
            Assert.That(Bits(dA[2 * h + j]), Is.EqualTo(Bits(delta * i * (1f - g * g))), $"dA_g[{j}]");
            Assert.That(Bits(dA[3 * h + j]), Is.EqualTo(Bits(dh[j] * t * o * (1f - o))), $"dA_o[{j}]");
            Assert.That(Bits(dcPrev[j]), Is.EqualTo(Bits(delta * f)), $"dc[{j}]");
        }
    }
}
