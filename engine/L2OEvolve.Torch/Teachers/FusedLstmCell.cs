using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>Which implementation runs a teacher's network step.</summary>
public enum LstmKernel
{
    /// <summary><see cref="Fused"/> where it applies (contiguous float32 on the CPU), libtorch's modules elsewhere.</summary>
    Auto,
    /// <summary>
    /// The whole network step as one pass over row blocks with hand-written products and backward
    /// (<see cref="FusedTeacherStep"/>).
    /// </summary>
    Fused,
    /// <summary>libtorch's modules (<c>Linear</c>, <c>LSTMCell</c>): the reference, and the path on CUDA.</summary>
    LibTorch,
}

/// <summary>
/// A coordinate-wise LSTM cell computed in one pass over blocks of rows (its products by <see cref="LstmGemm"/>),
/// with its own backward, numerically the same function as libtorch's <c>LSTMCell</c> (gate order i, f, g, o).
/// </summary>
/// <remarks>
/// Why: a teacher runs its cells on tens of thousands of rows of width 20, where libtorch spends most of a cell's
/// time in a dozen separate elementwise kernels (tanh alone costs more than a GEMM), in the autograd nodes that
/// record them, and in passes over memory between them. Here each block of 256 rows is
/// <code>
/// forward:  A ← [x h]·([W_ih W_hh]·D)ᵀ + D(b_ih + b_hh)        (D doubles the g rows)
///           S ← σ(A)                                        (one flat pass; g = 2σ(2a) − 1 = tanh a)
///           c' ← f⊙c + i⊙g;  τ ← tanh c';  h' ← o⊙τ          (one row pass)
///           saved for backward: x, h, c, S, τ
/// backward: δc ← dc' + dh'⊙o⊙(1 − τ²)
///           dA ← [δc⊙g⊙i(1−i), δc⊙c⊙f(1−f), δc⊙i⊙(1−g²), dh'⊙τ⊙o(1−o)];  dc ← δc⊙f   (row pass, dA in a block scratch)
///           [dx dh] ← dA·[W_ih W_hh];  partial_b ← [x h]ᵀ·dA, Σ_rows dA
///   then    [dW_ih dW_hh]ᵀ, db ← Σ_b partial_b (blocks in order)
/// </code>
/// σ is <see cref="LstmMath"/>'s. Blocks are fixed, so results are bit-identical for any thread count. CPU and
/// float32 only: elsewhere <see cref="LstmKernel.Auto"/> uses libtorch's cell.
/// </remarks>
public static class FusedLstmCell
{
    // Rows per block of elementwise work; fixed, so the vector/scalar split of every element never depends on threads.
    internal const int BlockRows = 256;

    /// <summary>Whether the fused kernel can run on these tensors (contiguous float32 on the CPU).</summary>
    public static bool Supports(Tensor x) => x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;

    /// <summary>
    /// One step of <paramref name="cell"/> on rows <paramref name="x"/> [N, I] with state (<paramref name="h"/>,
    /// <paramref name="c"/>) [N, H]. Under autograd with any input requiring a gradient the step is recorded as one
    /// node with the hand-written backward; otherwise it just computes.
    /// </summary>
    public static (Tensor H, Tensor C) Step(LSTMCell cell, Tensor x, Tensor h, Tensor c)
    {
        var (wih, whh, bih, bhh) = Weights(cell);
        bool recording = is_grad_enabled() && (x.requires_grad || h.requires_grad || c.requires_grad
            || wih.requires_grad || whh.requires_grad || bih.requires_grad || bhh.requires_grad);
        if (!recording)
        {
            using var _ = no_grad();
            var f = Forward(x, h, c, wih, whh, bih, bhh);
            f.Gates.Dispose(); f.Tanh.Dispose();
            return (f.H, f.C);
        }
        var outputs = Node.apply(x, h, c, wih, whh, bih, bhh);
        return (outputs[0], outputs[1]);
    }

    private static (Tensor Wih, Tensor Whh, Tensor Bih, Tensor Bhh) Weights(LSTMCell cell) =>
        (cell.weight_ih ?? throw new InvalidOperationException("LSTM cell without input weights"),
         cell.weight_hh ?? throw new InvalidOperationException("LSTM cell without hidden weights"),
         cell.bias_ih ?? throw new InvalidOperationException("the fused LSTM cell needs biases"),
         cell.bias_hh ?? throw new InvalidOperationException("the fused LSTM cell needs biases"));

    /// <summary>The forward pass; returns h', c', the activated gates S [N, 4H] (g block as σ(2a)) and τ = tanh c'.</summary>
    internal static (Tensor H, Tensor C, Tensor Gates, Tensor Tanh) Forward(Tensor x, Tensor h, Tensor c, Tensor wih, Tensor whh, Tensor bih, Tensor bhh)
    {
        long n = c.shape[0];
        int inputs = (int)x.shape[1], hidden = (int)c.shape[1];
        var gates = empty(n, 4 * hidden, dtype: ScalarType.Float32, device: c.device);
        var cNext = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var tau = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var hNext = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var (xIn, hIn, cIn) = (x.contiguous(), h.contiguous(), c.contiguous());
        var packed = ArrayPool<float>.Shared.Rent((inputs + hidden + 1) * 4 * hidden);
        try
        {
            unsafe
            {
                fixed (float* w = packed)
                {
                    PackForward(Ptr(wih), Ptr(whh), Ptr(bih), Ptr(bhh), inputs, hidden, w);
                    var p = new ForwardPointers(Ptr(xIn), Ptr(hIn), w, Ptr(gates), Ptr(cIn), Ptr(cNext), Ptr(tau), Ptr(hNext), inputs, hidden);
                    ForBlocks(n, (_, start, rows) => ForwardBlock(p, start, rows));
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(packed); }
        GC.KeepAlive(xIn); GC.KeepAlive(hIn); GC.KeepAlive(cIn);
        GC.KeepAlive(wih); GC.KeepAlive(whh); GC.KeepAlive(bih); GC.KeepAlive(bhh);
        return (hNext, cNext, gates, tau);
    }

    // [W_ih W_hh]ᵀ·D as [I + H][4H] rows, then D(b_ih + b_hh): D doubles the g block, so that one σ pass over all
    // gates gives tanh for it (tanh a = 2σ(2a) − 1). Doubling is exact in floats.
    internal static unsafe void PackForward(float* wih, float* whh, float* bih, float* bhh, int inputs, int hidden, float* packed)
    {
        int gates = 4 * hidden;
        for (int q = 0; q < gates; q++)
        {
            float d = q >= 2 * hidden && q < 3 * hidden ? 2f : 1f;
            for (int k = 0; k < inputs; k++) packed[k * gates + q] = wih[q * inputs + k] * d;
            for (int k = 0; k < hidden; k++) packed[(inputs + k) * gates + q] = whh[q * hidden + k] * d;
            packed[(inputs + hidden) * gates + q] = (bih[q] + bhh[q]) * d;
        }
    }

    /// <summary>Which gradients <see cref="Backward"/> computes (the rest come back null).</summary>
    internal readonly record struct Needs(bool X, bool H, bool C, bool Wih, bool Whh, bool Bih, bool Bhh)
    {
        public static Needs All => new(true, true, true, true, true, true, true);
    }

    /// <summary>
    /// The backward pass from the saved x, h, c, S and τ and the output gradients (null counts as zero): returns dx,
    /// dh, dc, dW_ih, dW_hh, db_ih, db_hh (null where not needed). Weight gradients are summed per fixed block of
    /// rows, then over blocks in order, so they do not depend on the thread count either.
    /// </summary>
    internal static Tensor?[] Backward(Tensor x, Tensor h, Tensor c, Tensor wih, Tensor whh, Tensor gates, Tensor tau,
        Tensor? dh, Tensor? dc, Needs needs)
    {
        long n = c.shape[0];
        int inputs = (int)x.shape[1], hidden = (int)c.shape[1], g4 = 4 * hidden, k = inputs + hidden;
        bool wantXH = needs.X || needs.H, wantW = needs.Wih || needs.Whh, wantB = needs.Bih || needs.Bhh;
        var dxh = wantXH ? empty(n, k, dtype: ScalarType.Float32, device: c.device) : null;
        var dcPrev = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var (xIn, hIn, cIn) = (x.contiguous(), h.contiguous(), c.contiguous());
        var (dhIn, dcIn) = (dh?.contiguous(), dc?.contiguous());
        int blocks = (int)((n + BlockRows - 1) / BlockRows), partialSize = (k + 1) * g4;
        var wcat = ArrayPool<float>.Shared.Rent(g4 * k);
        var partials = ArrayPool<float>.Shared.Rent(blocks * partialSize);
        var total = new float[partialSize];
        try
        {
            unsafe
            {
                fixed (float* w = wcat, part = partials)
                {
                    // Rows of [W_ih W_hh]: dA·[W_ih W_hh] gives [dx dh] in one product.
                    float* pih = Ptr(wih), phh = Ptr(whh);
                    for (int q = 0; q < g4; q++)
                    {
                        new Span<float>(pih + q * inputs, inputs).CopyTo(new Span<float>(w + q * k, inputs));
                        new Span<float>(phh + q * hidden, hidden).CopyTo(new Span<float>(w + q * k + inputs, hidden));
                    }
                    var p = new BackwardPointers(Ptr(xIn), Ptr(hIn), Ptr(gates), Ptr(tau), Ptr(cIn), dhIn is null ? null : Ptr(dhIn),
                        dcIn is null ? null : Ptr(dcIn), w, dxh is null ? null : Ptr(dxh), Ptr(dcPrev), wantW || wantB ? part : null,
                        wantW, wantB, inputs, hidden);
                    ForBlocks(n, (block, start, rows) => BackwardBlock(p, block, start, rows));
                    if (wantW || wantB)
                        fixed (float* sum = total) LstmGemm.ColumnSums(blocks, part, partialSize, sum);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(wcat);
            ArrayPool<float>.Shared.Return(partials);
        }
        GC.KeepAlive(xIn); GC.KeepAlive(hIn); GC.KeepAlive(cIn); GC.KeepAlive(dhIn); GC.KeepAlive(dcIn);
        GC.KeepAlive(wih); GC.KeepAlive(whh);
        // total holds [x h]ᵀ·dA as [I + H][4H] and then Σ_rows dA; the weights' gradients are its transposed parts.
        Tensor WeightGrad(int from, int width)
        {
            var values = new float[g4 * width];
            for (int q = 0; q < g4; q++)
                for (int j = 0; j < width; j++) values[q * width + j] = total[(from + j) * g4 + q];
            return tensor(values, [g4, width], dtype: ScalarType.Float32, device: c.device);
        }
        Tensor BiasGrad() => tensor(total.AsSpan(k * g4, g4).ToArray(), [g4], dtype: ScalarType.Float32, device: c.device);
        return
        [
            needs.X ? dxh!.narrow(1, 0, inputs) : null,
            needs.H ? dxh!.narrow(1, inputs, hidden) : null,
            needs.C ? dcPrev : null,
            needs.Wih ? WeightGrad(0, inputs) : null,
            needs.Whh ? WeightGrad(inputs, hidden) : null,
            // Two separate tensors: the engine may adopt a gradient as .grad without copying it.
            needs.Bih ? BiasGrad() : null,
            needs.Bhh ? BiasGrad() : null,
        ];
    }

    private readonly unsafe struct ForwardPointers(float* x, float* h, float* weights, float* gates, float* c, float* cNext, float* tau, float* hNext, int inputs, int hidden)
    {
        public readonly float* X = x, H = h, Weights = weights, Gates = gates, C = c, CNext = cNext, Tau = tau, HNext = hNext;
        public readonly int Inputs = inputs, Hidden = hidden;
    }

    private readonly unsafe struct BackwardPointers(float* x, float* h, float* gates, float* tau, float* c, float* dh, float* dc,
        float* weights, float* dxh, float* dcPrev, float* partials, bool weightGrads, bool biasGrads, int inputs, int hidden)
    {
        public readonly float* X = x, H = h, Gates = gates, Tau = tau, C = c, DH = dh, DC = dc, Weights = weights, DXH = dxh,
            DCPrev = dcPrev, Partials = partials;
        public readonly bool WeightGrads = weightGrads, BiasGrads = biasGrads;
        public readonly int Inputs = inputs, Hidden = hidden;
    }

    // Hot loops are compiled fully optimised at once: tier-0 code for them is many times slower and a training run
    // would spend its first steps there.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardBlock(ForwardPointers p, long start, long rows)
    {
        int h = p.Hidden, i = p.Inputs, g4 = 4 * h;
        float* gates = p.Gates + start * g4;
        LstmGemm.RowsTimes((int)rows, p.X + start * i, i, p.Weights, p.H + start * h, h, p.Weights + i * g4,
            p.Weights + (i + h) * g4, gates, g4);
        LstmMath.SigmoidInPlace(gates, rows * g4);
        for (long r = start; r < start + rows; r++)
            CellRow(p.Gates + r * g4, p.C + r * h, p.CNext + r * h, p.Tau + r * h, p.HNext + r * h, h);
    }

    // One block: dA for its rows (into a block-sized scratch that stays in cache), then [dx dh] = dA·[W_ih W_hh] for
    // those rows and the block's partial [x h]ᵀ·dA and Σ dA.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardBlock(BackwardPointers p, long block, long start, long rows)
    {
        int h = p.Hidden, i = p.Inputs, g4 = 4 * h, k = i + h;
        var scratch = ArrayPool<float>.Shared.Rent((int)rows * g4);
        try
        {
            fixed (float* dA = scratch)
            {
                for (long r = start; r < start + rows; r++)
                    BackwardRow(p.Gates + r * g4, p.Tau + r * h, null, p.C + r * h, p.DH is null ? null : p.DH + r * h,
                        p.DC is null ? null : p.DC + r * h, dA + (r - start) * g4, p.DCPrev + r * h, h);
                if (p.DXH is not null)
                    LstmGemm.RowsTimes((int)rows, dA, g4, p.Weights, null, 0, null, null, p.DXH + start * k, k);
                float* partial = p.Partials + block * (k + 1) * g4;
                if (p.WeightGrads) LstmGemm.TransposedTimes((int)rows, p.X + start * i, i, p.H + start * h, h, dA, g4, partial);
                if (p.BiasGrads) LstmGemm.ColumnSums((int)rows, dA, g4, partial + k * g4);
            }
        }
        finally { ArrayPool<float>.Shared.Return(scratch); }
    }

    internal static unsafe float* Ptr(Tensor t)
    {
        if (!t.is_contiguous() || t.dtype != ScalarType.Float32 || t.device_type != DeviceType.CPU)
            throw new ArgumentException($"the fused LSTM cell needs contiguous float32 CPU tensors, got {t.dtype} on {t.device}");
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(t.bytes)));
    }

    // Runs body(block, firstRow, rows) over fixed blocks of BlockRows rows, on up to libtorch's thread count.
    internal static void ForBlocks(long rows, Action<long, long, long> body)
    {
        long blocks = (rows + BlockRows - 1) / BlockRows;
        int threads = torch.get_num_threads();
        if (threads <= 1 || blocks == 1)
        {
            for (long b = 0; b < blocks; b++) body(b, b * BlockRows, Math.Min(BlockRows, rows - b * BlockRows));
            return;
        }
        Parallel.For(0L, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            b => body(b, b * BlockRows, Math.Min(BlockRows, rows - b * BlockRows)));
    }

    // c' = f⊙c + i⊙g with g = 2σ − 1, τ = tanh c' = 2σ(2c') − 1, h' = o⊙τ. Rows shorter than a vector run scalar;
    // longer ones end with an overlapping vector (every output is computed from inputs alone, so writing it twice
    // gives the same value).
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void CellRow(float* s, float* c, float* cn, float* tau, float* hn, int h)
    {
        float* i = s, f = s + h, g = s + 2 * h, o = s + 3 * h;
        int w = Vector256<float>.Count;
        if (h < w || !Vector256.IsHardwareAccelerated)
        {
            for (int x = 0; x < h; x++)
            {
                float cj = f[x] * c[x] + i[x] * (2f * g[x] - 1f);
                float t = 2f * LstmMath.Sigmoid(2f * cj) - 1f;
                cn[x] = cj; tau[x] = t; hn[x] = o[x] * t;
            }
            return;
        }
        var one = Vector256<float>.One;
        int j = 0;
        if (Wide(h))
        {
            // 16 lanes while they fit, then what is left by the 8-lane loop below (overlapping, same values).
            var one16 = Vector512<float>.One;
            for (; j + 16 <= h; j += 16)
            {
                var gj = Vector512.Load(g + j) * 2f - one16;
                var cj = Vector512.Load(f + j) * Vector512.Load(c + j) + Vector512.Load(i + j) * gj;
                var t = LstmMath.Sigmoid(cj * 2f) * 2f - one16;
                cj.Store(cn + j);
                t.Store(tau + j);
                (Vector512.Load(o + j) * t).Store(hn + j);
            }
            if (j == h) return;
        }
        for (; ; j += w)
        {
            if (j > h - w) j = h - w;
            var gj = Vector256.Load(g + j) * 2f - one;
            var cj = Vector256.Load(f + j) * Vector256.Load(c + j) + Vector256.Load(i + j) * gj;
            var t = LstmMath.Sigmoid(cj * 2f) * 2f - one;
            cj.Store(cn + j);
            t.Store(tau + j);
            (Vector256.Load(o + j) * t).Store(hn + j);
            if (j == h - w) break;
        }
    }

    // Rows of at least 16 floats take 16-lane vectors where AVX-512 runs (fewer operations to issue for the same
    // arithmetic; the hidden width 20 is one 16-lane and one overlapping 8-lane vector instead of three 8-lane ones).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Wide(int h) => h >= 16 && Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;

    // One row of the backward. τ comes from tau, or, where tau is null, is recomputed from c' (cn) by CellRow's
    // formula: the same bits as the τ the forward computed.
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void BackwardRow(float* s, float* tau, float* cn, float* c, float* dh, float* dc, float* dA, float* dcPrev, int h)
    {
        float* i = s, f = s + h, g = s + 2 * h, o = s + 3 * h;
        int w = Vector256<float>.Count;
        if (h < w || !Vector256.IsHardwareAccelerated)
        {
            for (int x = 0; x < h; x++)
            {
                float dhj = dh is null ? 0f : dh[x], dcj = dc is null ? 0f : dc[x];
                float t = tau is null ? 2f * LstmMath.Sigmoid(2f * cn[x]) - 1f : tau[x], oj = o[x], ij = i[x], fj = f[x], gj = 2f * g[x] - 1f;
                float delta = dcj + dhj * oj * (1f - t * t);
                dA[x] = delta * gj * ij * (1f - ij);
                dA[h + x] = delta * c[x] * fj * (1f - fj);
                dA[2 * h + x] = delta * ij * (1f - gj * gj);
                dA[3 * h + x] = dhj * t * oj * (1f - oj);
                dcPrev[x] = delta * fj;
            }
            return;
        }
        var one = Vector256<float>.One;
        int j = 0;
        if (Wide(h))
        {
            var one16 = Vector512<float>.One;
            for (; j + 16 <= h; j += 16)
            {
                var dhj = dh is null ? Vector512<float>.Zero : Vector512.Load(dh + j);
                var dcj = dc is null ? Vector512<float>.Zero : Vector512.Load(dc + j);
                var t = tau is null ? LstmMath.Sigmoid(Vector512.Load(cn + j) * 2f) * 2f - one16 : Vector512.Load(tau + j);
                var oj = Vector512.Load(o + j);
                var ij = Vector512.Load(i + j);
                var fj = Vector512.Load(f + j);
                var gj = Vector512.Load(g + j) * 2f - one16;
                var delta = dcj + dhj * oj * (one16 - t * t);
                (delta * gj * ij * (one16 - ij)).Store(dA + j);
                (delta * Vector512.Load(c + j) * fj * (one16 - fj)).Store(dA + h + j);
                (delta * ij * (one16 - gj * gj)).Store(dA + 2 * h + j);
                (dhj * t * oj * (one16 - oj)).Store(dA + 3 * h + j);
                (delta * fj).Store(dcPrev + j);
            }
            if (j == h) return;
        }
        for (; ; j += w)
        {
            if (j > h - w) j = h - w;
            var dhj = dh is null ? Vector256<float>.Zero : Vector256.Load(dh + j);
            var dcj = dc is null ? Vector256<float>.Zero : Vector256.Load(dc + j);
            var t = tau is null ? LstmMath.Sigmoid(Vector256.Load(cn + j) * 2f) * 2f - one : Vector256.Load(tau + j);
            var oj = Vector256.Load(o + j);
            var ij = Vector256.Load(i + j);
            var fj = Vector256.Load(f + j);
            var gj = Vector256.Load(g + j) * 2f - one;
            var delta = dcj + dhj * oj * (one - t * t);
            (delta * gj * ij * (one - ij)).Store(dA + j);
            (delta * Vector256.Load(c + j) * fj * (one - fj)).Store(dA + h + j);
            (delta * ij * (one - gj * gj)).Store(dA + 2 * h + j);
            (dhj * t * oj * (one - oj)).Store(dA + 3 * h + j);
            (delta * fj).Store(dcPrev + j);
            if (j == h - w) break;
        }
    }

    /// <summary>The autograd node: inputs x, h, c, W_ih, W_hh, b_ih, b_hh; outputs h', c'.</summary>
    private sealed class Node : autograd.MultiTensorFunction<Node>
    {
        public override string Name => "FusedLstmCell";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, h, c) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
            var (wih, whh, bih, bhh) = ((Tensor)vars[3], (Tensor)vars[4], (Tensor)vars[5], (Tensor)vars[6]);
            var (hn, cn, gates, tau) = Forward(x, h, c, wih, whh, bih, bhh);
            ctx.save_for_backward([x, h, c, wih, whh, gates, tau]);
            // Which inputs want gradients, so backward skips the GEMMs nobody reads (e.g. the state at a window start).
            ctx.save_data("needs", new Needs(x.requires_grad, h.requires_grad, c.requires_grad, wih.requires_grad, whh.requires_grad, bih.requires_grad, bhh.requires_grad));
            // Undefined output gradients (c' of the last step, say) arrive as null instead of freshly allocated zeros.
            ctx.set_materialize_grads(false);
            return [hn, cn];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            GradientHandOff.ReleasePrevious();
            List<Tensor> grads;
            using (NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();
                var (x, h, c, wih, whh, gates, tau) = (saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6]);
                var needs = (Needs)ctx.get_data("needs");
                var dh = GradientHandOff.Defined(gradOutputs, 0);
                var dc = GradientHandOff.Defined(gradOutputs, 1);
                grads = GradientHandOff.HandOver([.. Backward(x, h, c, wih, whh, gates, tau, dh, dc, needs).Select(g => g!)]);
            }
            foreach (var g in gradOutputs) g?.Dispose();
            return grads;
        }
    }
}

/// <summary>
/// What the fused autograd nodes share about gradients: undefined output gradients read as null, and the tensors a
/// backward returns are released at the next backward on the thread.
/// </summary>
internal static class GradientHandOff
{
    // The engine copies what backward returns as soon as it returns, so these handles are released at the next call
    // instead of living (with the gradients they keep alive) until the caller's dispose scope ends.
    [ThreadStatic] private static List<Tensor>? _handedOverStore;
    private static List<Tensor> HandedOver => _handedOverStore ??= [];

    /// <summary>Disposes the handles the previous backward on this thread returned.</summary>
    public static void ReleasePrevious()
    {
        foreach (var t in HandedOver) t.Dispose();
        HandedOver.Clear();
    }

    /// <summary>Keeps <paramref name="grads"/> until the next backward, detached from dispose scopes.</summary>
    public static List<Tensor> HandOver(List<Tensor> grads)
    {
        foreach (var t in grads)
            if (t is not null) { t.DetachFromDisposeScope(); HandedOver.Add(t); }
        return grads;
    }

    /// <summary>Output gradient <paramref name="i"/>, or null when the engine left it undefined.</summary>
    public static Tensor? Defined(List<Tensor> grads, int i) =>
        i < grads.Count && grads[i] is { } t && !t.IsInvalid ? t : null;
}
