using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>Which implementation runs a teacher's LSTM cells.</summary>
public enum LstmKernel
{
    /// <summary><see cref="Fused"/> where it applies (contiguous float32 on the CPU), libtorch's cell elsewhere.</summary>
    Auto,
    /// <summary>Two GEMMs plus one vectorised pass over the gates, with a hand-written backward (<see cref="FusedLstmCell"/>).</summary>
    Fused,
    /// <summary>libtorch's <c>LSTMCell</c>: the reference, and the path on CUDA.</summary>
    LibTorch,
}

/// <summary>
/// A coordinate-wise LSTM cell computed as two GEMMs and a few fused passes over the gates, with its own backward,
/// numerically the same function as libtorch's <c>LSTMCell</c> (gate order i, f, g, o).
/// </summary>
/// <remarks>
/// Why: a teacher runs its cells on tens of thousands of rows of width 20, where libtorch spends most of a cell's
/// time in a dozen separate elementwise kernels (tanh alone costs more than a GEMM) and in the autograd nodes that
/// record them. Here each step is
/// <code>
/// forward:  A ← [x h]·[W_ih W_hh]ᵀ·D + D(b_ih + b_hh)        (two GEMMs; D doubles the g rows)
///           S ← σ(A)                                        (one flat pass; g = 2σ(2a) − 1 = tanh a)
///           c' ← f⊙c + i⊙g;  τ ← tanh c';  h' ← o⊙τ          (one row pass)
///           saved for backward: x, h, c, S, τ
/// backward: δc ← dc' + dh'⊙o⊙(1 − τ²)
///           dA ← [δc⊙g⊙i(1−i), δc⊙c⊙f(1−f), δc⊙i⊙(1−g²), dh'⊙τ⊙o(1−o)];  dc ← δc⊙f   (one row pass)
///           [dx dh] ← dA·[W_ih W_hh];  dW_ih ← (xᵀ·dA)ᵀ;  dW_hh ← (hᵀ·dA)ᵀ;  db ← Σ_rows dA   (GEMMs)
/// </code>
/// σ is <see cref="LstmMath"/>'s. Elementwise work is split into fixed blocks of rows, so results are bit-identical
/// for any thread count. CPU and float32 only: elsewhere <see cref="LstmKernel.Auto"/> uses libtorch's cell.
/// </remarks>
public static class FusedLstmCell
{
    // Rows per block of elementwise work; fixed, so the vector/scalar split of every element never depends on threads.
    private const int BlockRows = 256;

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
        long hidden = h.shape[1];
        Tensor gates;
        using (var scope = NewDisposeScope())
        {
            // Doubling the g rows lets one σ pass over all gates give tanh for the g block: tanh a = 2σ(2a) − 1.
            var d = GateScale(hidden, x.device);
            var bias = (bih + bhh) * d;
            gates = addmm(bias, x.contiguous(), (wih * d.unsqueeze(1)).t(), 1, 1);
            gates.addmm_(h.contiguous(), (whh * d.unsqueeze(1)).t(), 1, 1);
            gates.MoveToOuterDisposeScope();
        }
        var (hNext, cNext, tau) = Activate(gates, c);
        return (hNext, cNext, gates, tau);
    }

    /// <summary>
    /// The elementwise half of the forward pass: σ in place over the gate pre-activations <paramref name="gates"/>
    /// [N, 4H] (g block pre-doubled), then c', τ = tanh c' and h' from them and <paramref name="c"/>.
    /// </summary>
    internal static (Tensor H, Tensor C, Tensor Tanh) Activate(Tensor gates, Tensor c)
    {
        long n = c.shape[0], hidden = c.shape[1];
        var cNext = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var tau = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var hNext = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var cIn = c.contiguous();
        unsafe
        {
            var p = new ForwardPointers(Ptr(gates), Ptr(cIn), Ptr(cNext), Ptr(tau), Ptr(hNext), (int)hidden);
            ForBlocks(n, (start, rows) => ForwardBlock(p, start, rows));
        }
        GC.KeepAlive(cIn);
        return (hNext, cNext, tau);
    }

    /// <summary>
    /// The backward pass from the saved S, τ and c; returns dA [N, 4H] (gradient at the gate pre-activations) and dc.
    /// A null output gradient counts as zero.
    /// </summary>
    internal static (Tensor DGates, Tensor DC) Backward(Tensor gates, Tensor tau, Tensor c, Tensor? dh, Tensor? dc)
    {
        long n = c.shape[0], hidden = c.shape[1];
        var dA = empty(n, 4 * hidden, dtype: ScalarType.Float32, device: c.device);
        var dcPrev = empty(n, hidden, dtype: ScalarType.Float32, device: c.device);
        var cIn = c.contiguous();
        var dhIn = dh?.contiguous();
        var dcIn = dc?.contiguous();
        unsafe
        {
            var p = new BackwardPointers(Ptr(gates), Ptr(tau), Ptr(cIn), dhIn is null ? null : Ptr(dhIn), dcIn is null ? null : Ptr(dcIn),
                Ptr(dA), Ptr(dcPrev), (int)hidden);
            ForBlocks(n, (start, rows) => BackwardBlock(p, start, rows));
        }
        GC.KeepAlive(cIn); GC.KeepAlive(dhIn); GC.KeepAlive(dcIn);
        return (dA, dcPrev);
    }

    private readonly unsafe struct ForwardPointers(float* gates, float* c, float* cNext, float* tau, float* hNext, int hidden)
    {
        public readonly float* Gates = gates, C = c, CNext = cNext, Tau = tau, HNext = hNext;
        public readonly int Hidden = hidden;
    }

    private readonly unsafe struct BackwardPointers(float* gates, float* tau, float* c, float* dh, float* dc, float* dGates, float* dcPrev, int hidden)
    {
        public readonly float* Gates = gates, Tau = tau, C = c, DH = dh, DC = dc, DGates = dGates, DCPrev = dcPrev;
        public readonly int Hidden = hidden;
    }

    // Hot loops are compiled fully optimised at once: tier-0 code for them is many times slower and a training run
    // would spend its first steps there.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardBlock(ForwardPointers p, long start, long rows)
    {
        int h = p.Hidden;
        LstmMath.SigmoidInPlace(p.Gates + start * 4 * h, rows * 4 * h);
        for (long r = start; r < start + rows; r++)
            CellRow(p.Gates + r * 4 * h, p.C + r * h, p.CNext + r * h, p.Tau + r * h, p.HNext + r * h, h);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardBlock(BackwardPointers p, long start, long rows)
    {
        int h = p.Hidden;
        for (long r = start; r < start + rows; r++)
            BackwardRow(p.Gates + r * 4 * h, p.Tau + r * h, p.C + r * h, p.DH is null ? null : p.DH + r * h,
                p.DC is null ? null : p.DC + r * h, p.DGates + r * 4 * h, p.DCPrev + r * h, h);
    }

    private static Tensor GateScale(long hidden, Device device)
    {
        var d = ones(4 * hidden, dtype: ScalarType.Float32, device: device);
        d.narrow(0, 2 * hidden, hidden).fill_(2f);
        return d;
    }

    private static unsafe float* Ptr(Tensor t)
    {
        if (!t.is_contiguous() || t.dtype != ScalarType.Float32 || t.device_type != DeviceType.CPU)
            throw new ArgumentException($"the fused LSTM cell needs contiguous float32 CPU tensors, got {t.dtype} on {t.device}");
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, float>(t.bytes)));
    }

    private static void ForBlocks(long rows, Action<long, long> body)
    {
        long blocks = (rows + BlockRows - 1) / BlockRows;
        int threads = torch.get_num_threads();
        if (threads <= 1 || blocks == 1)
        {
            for (long b = 0; b < blocks; b++) body(b * BlockRows, Math.Min(BlockRows, rows - b * BlockRows));
            return;
        }
        Parallel.For(0L, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            b => body(b * BlockRows, Math.Min(BlockRows, rows - b * BlockRows)));
    }

    // c' = f⊙c + i⊙g with g = 2σ − 1, τ = tanh c' = 2σ(2c') − 1, h' = o⊙τ. Rows shorter than a vector run scalar;
    // longer ones end with an overlapping vector (every output is computed from inputs alone, so writing it twice
    // gives the same value).
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void CellRow(float* s, float* c, float* cn, float* tau, float* hn, int h)
    {
        float* i = s, f = s + h, g = s + 2 * h, o = s + 3 * h;
        int w = Vector256<float>.Count;
        if (h < w || !Vector256.IsHardwareAccelerated)
        {
            for (int j = 0; j < h; j++)
            {
                float cj = f[j] * c[j] + i[j] * (2f * g[j] - 1f);
                float t = 2f * LstmMath.Sigmoid(2f * cj) - 1f;
                cn[j] = cj; tau[j] = t; hn[j] = o[j] * t;
            }
            return;
        }
        var one = Vector256<float>.One;
        for (int j = 0; ; j += w)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardRow(float* s, float* tau, float* c, float* dh, float* dc, float* dA, float* dcPrev, int h)
    {
        float* i = s, f = s + h, g = s + 2 * h, o = s + 3 * h;
        int w = Vector256<float>.Count;
        if (h < w || !Vector256.IsHardwareAccelerated)
        {
            for (int j = 0; j < h; j++)
            {
                float dhj = dh is null ? 0f : dh[j], dcj = dc is null ? 0f : dc[j];
                float t = tau[j], oj = o[j], ij = i[j], fj = f[j], gj = 2f * g[j] - 1f;
                float delta = dcj + dhj * oj * (1f - t * t);
                dA[j] = delta * gj * ij * (1f - ij);
                dA[h + j] = delta * c[j] * fj * (1f - fj);
                dA[2 * h + j] = delta * ij * (1f - gj * gj);
                dA[3 * h + j] = dhj * t * oj * (1f - oj);
                dcPrev[j] = delta * fj;
            }
            return;
        }
        var one = Vector256<float>.One;
        for (int j = 0; ; j += w)
        {
            if (j > h - w) j = h - w;
            var dhj = dh is null ? Vector256<float>.Zero : Vector256.Load(dh + j);
            var dcj = dc is null ? Vector256<float>.Zero : Vector256.Load(dc + j);
            var t = Vector256.Load(tau + j);
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
            ctx.save_data("needs", new[] { x.requires_grad, h.requires_grad, c.requires_grad, wih.requires_grad, whh.requires_grad, bih.requires_grad, bhh.requires_grad });
            // Undefined output gradients (c' of the last step, say) arrive as null instead of freshly allocated zeros.
            ctx.set_materialize_grads(false);
            return [hn, cn];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            ReleaseHandedOver();
            List<Tensor> grads;
            using (NewDisposeScope())
            {
                var saved = ctx.get_saved_variables();
                var (x, h, c, wih, whh, gates, tau) = (saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6]);
                var needs = (bool[])ctx.get_data("needs");
                var (dA, dcPrev) = Backward(gates, tau, c, Defined(gradOutputs, 0), Defined(gradOutputs, 1));
                var db = needs[5] || needs[6] ? dA.sum(dim: 0L) : null;
                // dx and dh from one GEMM against [W_ih W_hh] when both are wanted: one pass over dA instead of two.
                Tensor? dx = null, dh = null;
                if (needs[0] && needs[1])
                {
                    var both = dA.mm(cat([wih, whh], 1));
                    long inputs = wih.shape[1];
                    (dx, dh) = (both.narrow(1, 0, inputs), both.narrow(1, inputs, whh.shape[1]));
                }
                else if (needs[0]) dx = dA.mm(wih);
                else if (needs[1]) dh = dA.mm(whh);
                // xᵀ·dA then a transposed view: MKL runs this orientation of the tall-skinny product faster than dAᵀ·x.
                grads =
                [
                    dx!,
                    dh!,
                    needs[2] ? dcPrev : null!,
                    needs[3] ? x.t().mm(dA).t() : null!,
                    needs[4] ? h.t().mm(dA).t() : null!,
                    needs[5] ? db! : null!,
                    // A separate tensor: the engine may adopt a gradient as .grad without copying it.
                    needs[6] ? db!.clone() : null!,
                ];
                foreach (var t in grads) t?.DetachFromDisposeScope();
            }
            // The engine copies what backward returns as soon as it returns, so these handles are released at the next
            // call instead of living (with the gradients they keep alive) until the caller's dispose scope ends.
            foreach (var t in grads) if (t is not null) HandedOver.Add(t);
            foreach (var g in gradOutputs) g?.Dispose();
            return grads;
        }

        [ThreadStatic] private static List<Tensor>? _handedOverStore;
        private static List<Tensor> HandedOver => _handedOverStore ??= [];

        private static void ReleaseHandedOver()
        {
            foreach (var t in HandedOver) t.Dispose();
            HandedOver.Clear();
        }

        private static Tensor? Defined(List<Tensor> grads, int i) =>
            i < grads.Count && grads[i] is { } t && !t.IsInvalid ? t : null;
    }
}
