using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// A teacher's whole network step (Linear+ELU preprocessing, the stacked LSTM cells, the linear head and its tanh)
/// as one pass over blocks of rows, recorded as one autograd node with a hand-written backward.
/// </summary>
/// <remarks>
/// Why: per cell, <see cref="FusedLstmCell"/> already replaces libtorch's kernels; what remained of a step was
/// libtorch's ELU, the head's products, the autograd engine summing the two gradients of every hidden state (the
/// next layer's input and the next step's state) and a dozen dispatches and [N, 20] temporaries, each a pass over
/// memory. Here each block of 256 rows goes through every layer while it is in cache:
/// <code>
/// forward:  y_p ← ELU(y_{p−1}·P_pᵀ + b_p)  for each preprocessing layer (y_0 = features)
///           h'_l, c'_l ← the fused cell on (x_l, h_l, c_l), x_1 = y_P, x_{l+1} = h'_l   (saves S_l only)
///           u ← h'_L·w + b;  u ← tanh u if the model squashes
/// backward: recompute the block's y_p from x, and τ_l = tanh c'_l in each cell's row pass
///           e ← du ⊙ (1 − u²) (or du);  δ_L ← dh'_L + e·w;  dw += Σ e·h'_L;  db += Σ e
///           for l = L..1: dA_l, dc_l ← cell backward(S_l, τ_l, c_l, δ_l, dc'_l);  [dx dh_l] ← dA_l·[W_ih W_hh]
///                         δ_{l−1} ← dx + dh'_{l−1};  dW_l += [x_l h_l]ᵀ·dA_l;  db_l += Σ dA_l
///           for p = P..1: z ← δ ⊙ ELU'(y_p) (= 1 where y_p > 0, else y_p + 1);  dP_p += y_{p−1}ᵀ·z;  db_p += Σ z;
///                         δ ← z·P_p
/// </code>
/// Weight gradients are summed per fixed block, then over blocks in order, so results are bit-identical for any
/// thread count. The features carry no gradient (they come from detached optimizee gradients).
/// </remarks>
internal static class FusedTeacherStep
{
    /// <summary>The layer widths of a network: input, preprocessing layers, LSTM layers; and the output squash.</summary>
    internal sealed record Layout(int Input, int[] Pre, int[] Hidden, bool Tanh)
    {
        /// <summary>Width of the input of LSTM layer <paramref name="l"/>.</summary>
        public int CellInput(int l) => l > 0 ? Hidden[l - 1] : Pre.Length > 0 ? Pre[^1] : Input;

        /// <summary>Width of the input of preprocessing layer <paramref name="p"/>.</summary>
        public int PreInput(int p) => p > 0 ? Pre[p - 1] : Input;

        public int PreGradSize(int p) => (PreInput(p) + 1) * Pre[p];
        public int CellGradSize(int l) => (CellInput(l) + Hidden[l] + 1) * 4 * Hidden[l];
        public int HeadGradSize => Hidden[^1] + 1;

        // Sizes and offsets the block passes read once per layer and block: computed once here, not summed per call.
        private readonly int[] _preGradOffsets = Offsets(Pre.Length, p => (p > 0 ? Pre[p - 1] : Input) * Pre[p] + Pre[p]);
        private readonly int[] _cellGradOffsets = Offsets(Hidden.Length,
            l => ((l > 0 ? Hidden[l - 1] : Pre.Length > 0 ? Pre[^1] : Input) + Hidden[l] + 1) * 4 * Hidden[l]);
        private readonly int[] _preOffsets = Offsets(Pre.Length, p => Pre[p]);

        private static int[] Offsets(int count, Func<int, int> size)
        {
            var at = new int[count + 1];
            for (int i = 0; i < count; i++) at[i + 1] = at[i] + size(i);
            return at;
        }

        /// <summary>Where preprocessing layer <paramref name="q"/>'s part starts in a block's partial weight gradients.</summary>
        public int PreGradOffset(int q) => _preGradOffsets[q];

        /// <summary>Where cell <paramref name="l"/>'s part starts (the head's at l = number of cells).</summary>
        public int CellGradOffset(int l) => _preGradOffsets[^1] + _cellGradOffsets[l];

        /// <summary>Where y_q starts in a block's y scratch, in rows' worth of floats: the widths of the layers below q.</summary>
        public int PreOffset(int q) => _preOffsets[q];

        /// <summary>Floats of one block's partial weight gradients, every layer's in order.</summary>
        public int GradSize => CellGradOffset(Hidden.Length) + HeadGradSize;

        /// <summary>Widest row any layer produces or reads (scratch sizing).</summary>
        public int Widest { get; } = Math.Max(Math.Max(Input, Pre.DefaultIfEmpty(0).Max()),
            Enumerable.Range(0, Hidden.Length).DefaultIfEmpty(-1).Max(l => l < 0 ? 0 : Math.Max(4 * Hidden[l], (l > 0 ? Hidden[l - 1] : Pre.Length > 0 ? Pre[^1] : Input) + Hidden[l])));

        /// <summary>Sum of the preprocessing layers' widths (floats of one row's y_p, all layers).</summary>
        public int PreWidths => _preOffsets[^1];

        /// <summary>Width of the widest cell.</summary>
        public int HiddenMax { get; } = Hidden.DefaultIfEmpty(0).Max();

        /// <summary>Weight tensors expected: two per preprocessing layer, four per cell, two for the head.</summary>
        public int WeightCount => 2 * Pre.Length + 4 * Hidden.Length + 2;
    }

    /// <summary>
    /// One step on features <paramref name="x"/> [N, Input] with states <paramref name="h"/>, <paramref name="c"/>
    /// (one [N, H_l] each) and <paramref name="weights"/> in the order of <see cref="Layout"/>: per preprocessing
    /// layer W, b; per cell W_ih, W_hh, b_ih, b_hh; then the head's W [1, H_L] and b [1]. Returns u [N] and the
    /// next states. Recorded as one autograd node when any state or weight requires a gradient. With a
    /// <paramref name="pool"/>, the outputs and saved gates live in its reused memory (the same values).
    /// </summary>
    public static (Tensor U, Tensor[] H, Tensor[] C) Step(Layout layout, Tensor x, IReadOnlyList<Tensor> h, IReadOnlyList<Tensor> c,
        IReadOnlyList<Tensor> weights, ActivationPool? pool = null)
    {
        int layers = layout.Hidden.Length;
        if (h.Count != layers || c.Count != layers || weights.Count != layout.WeightCount)
            throw new ArgumentException($"fused teacher step: {layers} layers need {layers} states and {layout.WeightCount} weights");
        bool recording = is_grad_enabled() && (h.Any(t => t.requires_grad) || c.Any(t => t.requires_grad) || weights.Any(t => t.requires_grad));
        if (!recording)
        {
            using var _ = no_grad();
            var f = Forward(layout, x, h, c, weights, pool);
            foreach (var t in f.Saved) t.Dispose();
            return (f.U, f.H, f.C);
        }
        var outputs = Node.apply([layout, pool!, x, .. h, .. c, .. weights]);
        return (outputs[0], [.. outputs.Skip(1).Take(layers)], [.. outputs.Skip(1 + layers).Take(layers)]);
    }

    /// <summary>
    /// The forward pass. <c>Saved</c> holds only each cell's activated gates S_l: the backward recomputes the
    /// preprocessing outputs y_p (from x) and τ_l = tanh c'_l (from the output c'_l) per block, with the same
    /// operations on the same values, so it gets the same bits while a window keeps a fifth less memory.
    /// </summary>
    internal static (Tensor U, Tensor[] H, Tensor[] C, Tensor[] Saved) Forward(Layout layout, Tensor x, IReadOnlyList<Tensor> h,
        IReadOnlyList<Tensor> c, IReadOnlyList<Tensor> weights, ActivationPool? pool = null)
    {
        long n = x.shape[0];
        Tensor New(long cols) => pool?.Rent(n, cols) ?? empty(n, cols, dtype: ScalarType.Float32, device: x.device);
        var gates = layout.Hidden.Select(hd => New(4 * hd)).ToArray();
        var hNext = layout.Hidden.Select(hd => New(hd)).ToArray();
        var cNext = layout.Hidden.Select(hd => New(hd)).ToArray();
        var u = pool?.Rent(n) ?? empty(n, dtype: ScalarType.Float32, device: x.device);
        var xIn = x.contiguous();
        var hIn = h.Select(t => t.contiguous()).ToArray();
        var cIn = c.Select(t => t.contiguous()).ToArray();
        var packed = ArrayPool<float>.Shared.Rent(PackedSize(layout));
        try
        {
            unsafe
            {
                fixed (float* w = packed)
                {
                    PackForward(layout, weights, w);
                    var p = new Pointers(layout, w, FusedLstmCell.Ptr(xIn), Ptrs(hIn), Ptrs(cIn), Ptrs(gates),
                        Ptrs(hNext), Ptrs(cNext), FusedLstmCell.Ptr(u));
                    FusedLstmCell.ForBlocks(n, (_, start, rows) => ForwardBlock(p, start, rows));
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(packed); }
        GC.KeepAlive(xIn); GC.KeepAlive(hIn); GC.KeepAlive(cIn); GC.KeepAlive(weights);
        return (u, hNext, cNext, gates);
    }

    // Packed weights take, layer by layer, the room of that layer's weight gradient: forward, preprocessing Pᵀ
    // [in][P] then b, cells as FusedLstmCell.PackForward, head w then b; backward, each layer's matrix as stored.
    private static int PackedSize(Layout layout) => layout.GradSize;

    private static unsafe void PackForward(Layout layout, IReadOnlyList<Tensor> weights, float* w)
    {
        int wi = 0;
        for (int p = 0; p < layout.Pre.Length; p++, wi += 2)
        {
            int inputs = layout.PreInput(p), width = layout.Pre[p];
            float* pw = FusedLstmCell.Ptr(weights[wi]), pb = FusedLstmCell.Ptr(weights[wi + 1]);
            for (int j = 0; j < width; j++)
            {
                for (int k = 0; k < inputs; k++) w[k * width + j] = pw[j * inputs + k];
                w[inputs * width + j] = pb[j];
            }
            w += layout.PreGradSize(p);
        }
        for (int l = 0; l < layout.Hidden.Length; l++, wi += 4)
        {
            FusedLstmCell.PackForward(FusedLstmCell.Ptr(weights[wi]), FusedLstmCell.Ptr(weights[wi + 1]), FusedLstmCell.Ptr(weights[wi + 2]),
                FusedLstmCell.Ptr(weights[wi + 3]), layout.CellInput(l), layout.Hidden[l], w);
            w += layout.CellGradSize(l);
        }
        new Span<float>(FusedLstmCell.Ptr(weights[wi]), layout.Hidden[^1]).CopyTo(new Span<float>(w, layout.Hidden[^1]));
        w[layout.Hidden[^1]] = *FusedLstmCell.Ptr(weights[wi + 1]);
    }

    private static unsafe IntPtr[] Ptrs(IEnumerable<Tensor?> tensors) =>
        [.. tensors.Select(t => t is null ? IntPtr.Zero : (IntPtr)FusedLstmCell.Ptr(t))];

    // Raw pointers of one call, shared read-only by the block workers (each writes only its own rows).
    private sealed unsafe class Pointers(Layout layout, float* weights, float* x, IntPtr[] h, IntPtr[] c, IntPtr[] gates,
        IntPtr[] hNext, IntPtr[] cNext, float* u)
    {
        public readonly Layout Layout = layout;
        public readonly float* Weights = weights, X = x, U = u;
        public readonly IntPtr[] H = h, C = c, Gates = gates, HNext = hNext, CNext = cNext;
        public float* HIn(int l) => (float*)H[l];
        public float* CIn(int l) => (float*)C[l];
        public float* S(int l) => (float*)Gates[l];
        public float* HOut(int l) => (float*)HNext[l];
        public float* COut(int l) => (float*)CNext[l];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardBlock(Pointers p, long start, long rows)
    {
        var layout = p.Layout;
        int r = (int)rows;
        // Scratch: the block's y_p (the preprocessing layers'), then τ of the cell at hand; neither is kept.
        var scratch = ArrayPool<float>.Shared.Rent(r * (layout.PreWidths + layout.HiddenMax));
        try
        {
            fixed (float* sc = scratch)
            {
                float* tau = PreprocessBlock(layout, p.Weights, p.X + start * layout.Input, r, sc);
                float* w = p.Weights + layout.CellGradOffset(0);
                float* input = layout.Pre.Length > 0 ? tau - r * layout.Pre[^1] : p.X + start * layout.Input;
                int width = layout.CellInput(0);
                for (int l = 0; l < layout.Hidden.Length; l++)
                {
                    int hd = layout.Hidden[l], g4 = 4 * hd;
                    float* s = p.S(l) + start * g4;
                    LstmGemm.RowsTimes(r, input, width, w, p.HIn(l) + start * hd, hd, w + width * g4, w + (width + hd) * g4, s, g4);
                    LstmMath.SigmoidInPlace(s, (long)r * g4);
                    float* c = p.CIn(l) + start * hd, cn = p.COut(l) + start * hd, hn = p.HOut(l) + start * hd;
                    for (int i = 0; i < r; i++)
                        FusedLstmCell.CellRow(s + i * g4, c + i * hd, cn + i * hd, tau + i * hd, hn + i * hd, hd);
                    w += layout.CellGradSize(l);
                    input = hn; width = hd;
                }
                float* u = p.U + start;
                LstmGemm.RowsTimes(r, input, width, w, null, 0, null, w + width, u, 1);
                if (layout.Tanh) LstmMath.TanhInPlace(u, r);
            }
        }
        finally { ArrayPool<float>.Shared.Return(scratch); }
    }

    // y_p ← ELU(y_{p−1}·P_pᵀ + b_p) for one block's r rows of x, into ys (layer after layer, r rows each) from the
    // forward-packed weights; returns the end of what it wrote. The forward and the backward's recomputation both
    // run this, on the same rows of the same block, so they give the same bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* PreprocessBlock(Layout layout, float* w, float* x, int r, float* ys)
    {
        float* input = x;
        int width = layout.Input;
        for (int q = 0; q < layout.Pre.Length; q++)
        {
            int outW = layout.Pre[q];
            LstmGemm.RowsTimes(r, input, width, w, null, 0, null, w + width * outW, ys, outW);
            LstmMath.EluInPlace(ys, (long)r * outW);
            w += layout.PreGradSize(q);
            input = ys; width = outW;
            ys += r * outW;
        }
        return ys;
    }

    /// <summary>
    /// The backward pass from the step's inputs, outputs and saved <paramref name="gates"/>: <paramref name="du"/>,
    /// <paramref name="dhOut"/>[l], <paramref name="dcOut"/>[l] are the output gradients (null counts as zero);
    /// returns the gradients of h_l, c_l (null where
    /// <paramref name="needState"/> is false) and of every weight. The state gradients come from
    /// <paramref name="pool"/> when there is one.
    /// </summary>
    internal static (Tensor?[] H, Tensor?[] C, Tensor[] Weights) Backward(Layout layout, Tensor x, IReadOnlyList<Tensor> h,
        IReadOnlyList<Tensor> c, IReadOnlyList<Tensor> weights, Tensor u, IReadOnlyList<Tensor> hNext, IReadOnlyList<Tensor> cNext,
        IReadOnlyList<Tensor> gates, Tensor? du, IReadOnlyList<Tensor?> dhOut, IReadOnlyList<Tensor?> dcOut, bool[] needState,
        ActivationPool? pool = null)
    {
        long n = x.shape[0];
        int pres = layout.Pre.Length, layers = layout.Hidden.Length;
        var dh = new Tensor?[layers];
        var dc = new Tensor?[layers];
        Tensor New(int cols) => pool?.Rent(n, cols) ?? empty(n, cols, dtype: ScalarType.Float32, device: x.device);
        for (int l = 0; l < layers; l++)
        {
            if (needState[l]) dh[l] = New(layout.Hidden[l]);
            if (needState[layers + l]) dc[l] = New(layout.Hidden[l]);
        }
        var xIn = x.contiguous();
        var hIn = h.Select(t => t.contiguous()).ToArray();
        var cIn = c.Select(t => t.contiguous()).ToArray();
        var duIn = du?.contiguous();
        var dhIn = dhOut.Select(t => t?.contiguous()).ToArray();
        var dcIn = dcOut.Select(t => t?.contiguous()).ToArray();
        int blocks = (int)((n + FusedLstmCell.BlockRows - 1) / FusedLstmCell.BlockRows), gradSize = layout.GradSize;
        var packed = ArrayPool<float>.Shared.Rent(PackedSize(layout));
        // The preprocessing layers' forward weights, to recompute y_p (the cells' part of it is not read).
        var packedForward = pres > 0 ? ArrayPool<float>.Shared.Rent(PackedSize(layout)) : null;
        var partials = ArrayPool<float>.Shared.Rent(blocks * gradSize);
        var total = new float[gradSize];
        try
        {
            unsafe
            {
                fixed (float* w = packed, wf = packedForward, part = partials, sum = total)
                {
                    PackBackward(layout, weights, w);
                    if (wf is not null) PackForward(layout, weights, wf);
                    var p = new BackPointers(layout, w, wf, FusedLstmCell.Ptr(xIn), Ptrs(hIn), Ptrs(cIn), Ptrs(gates),
                        Ptrs(hNext), Ptrs(cNext), FusedLstmCell.Ptr(u), duIn is null ? null : FusedLstmCell.Ptr(duIn), Ptrs(dhIn), Ptrs(dcIn), Ptrs(dh), Ptrs(dc), part);
                    FusedLstmCell.ForBlocks(n, (block, start, rows) => BackwardBlock(p, block, start, rows));
                    LstmGemm.ColumnSums(blocks, part, gradSize, sum);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
            if (packedForward is not null) ArrayPool<float>.Shared.Return(packedForward);
            ArrayPool<float>.Shared.Return(partials);
        }
        GC.KeepAlive(xIn); GC.KeepAlive(hIn); GC.KeepAlive(cIn); GC.KeepAlive(duIn); GC.KeepAlive(dhIn); GC.KeepAlive(dcIn);
        GC.KeepAlive(weights); GC.KeepAlive(gates); GC.KeepAlive(hNext); GC.KeepAlive(cNext); GC.KeepAlive(u);
        return (dh, dc, WeightGradients(layout, total, x.device));
    }

    // total holds, per layer, Σ inputᵀ·(gradient at the pre-activation) as [in][out] and then Σ of that gradient;
    // a weight's gradient is the transposed [out][in].
    private static Tensor[] WeightGradients(Layout layout, float[] total, Device device)
    {
        var grads = new List<Tensor>();
        int at = 0;
        Tensor Transposed(int inputs, int outputs, int from)
        {
            var values = new float[outputs * inputs];
            for (int j = 0; j < outputs; j++)
                for (int k = 0; k < inputs; k++) values[j * inputs + k] = total[at + (from + k) * outputs + j];
            return tensor(values, [outputs, inputs], dtype: ScalarType.Float32, device: device);
        }
        Tensor Slice(int offset, int count, long[] shape) => tensor(total.AsSpan(offset, count).ToArray(), shape, dtype: ScalarType.Float32, device: device);
        for (int p = 0; p < layout.Pre.Length; p++)
        {
            int inputs = layout.PreInput(p), width = layout.Pre[p];
            grads.Add(Transposed(inputs, width, 0));
            grads.Add(Slice(at + inputs * width, width, [width]));
            at += layout.PreGradSize(p);
        }
        for (int l = 0; l < layout.Hidden.Length; l++)
        {
            int inputs = layout.CellInput(l), hd = layout.Hidden[l], g4 = 4 * hd;
            grads.Add(Transposed(inputs, g4, 0));
            grads.Add(Transposed(hd, g4, inputs));
            // Two separate tensors: the engine may adopt a gradient as .grad without copying it.
            grads.Add(Slice(at + (inputs + hd) * g4, g4, [g4]));
            grads.Add(Slice(at + (inputs + hd) * g4, g4, [g4]));
            at += layout.CellGradSize(l);
        }
        grads.Add(Slice(at, layout.Hidden[^1], [1, layout.Hidden[^1]]));
        grads.Add(Slice(at + layout.Hidden[^1], 1, [1]));
        return [.. grads];
    }

    // Backward weights as stored (row j of a layer's [out][in] matrix is what z·W reads); cells as [W_ih W_hh] rows.
    private static unsafe void PackBackward(Layout layout, IReadOnlyList<Tensor> weights, float* w)
    {
        int wi = 0;
        for (int p = 0; p < layout.Pre.Length; p++, wi += 2)
        {
            int count = layout.PreInput(p) * layout.Pre[p];
            new Span<float>(FusedLstmCell.Ptr(weights[wi]), count).CopyTo(new Span<float>(w, count));
            w += layout.PreGradSize(p);
        }
        for (int l = 0; l < layout.Hidden.Length; l++, wi += 4)
        {
            int inputs = layout.CellInput(l), hd = layout.Hidden[l], k = inputs + hd;
            float* pih = FusedLstmCell.Ptr(weights[wi]), phh = FusedLstmCell.Ptr(weights[wi + 1]);
            for (int q = 0; q < 4 * hd; q++)
            {
                new Span<float>(pih + q * inputs, inputs).CopyTo(new Span<float>(w + q * k, inputs));
                new Span<float>(phh + q * hd, hd).CopyTo(new Span<float>(w + q * k + inputs, hd));
            }
            w += layout.CellGradSize(l);
        }
        new Span<float>(FusedLstmCell.Ptr(weights[wi]), layout.Hidden[^1]).CopyTo(new Span<float>(w, layout.Hidden[^1]));
    }

    private sealed unsafe class BackPointers(Layout layout, float* weights, float* forwardWeights, float* x, IntPtr[] h, IntPtr[] c, IntPtr[] gates,
        IntPtr[] hNext, IntPtr[] cNext, float* u, float* du, IntPtr[] dhOut, IntPtr[] dcOut, IntPtr[] dh, IntPtr[] dc, float* partials)
    {
        public readonly Layout Layout = layout;
        public readonly float* Weights = weights, ForwardWeights = forwardWeights, X = x, U = u, DU = du, Partials = partials;
        public readonly IntPtr[] H = h, C = c, Gates = gates, HNext = hNext, CNext = cNext, DHOut = dhOut, DCOut = dcOut, DH = dh, DC = dc;
    }

    // One block of rows through the backward of every layer, top down; scratch rows stay in cache between layers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardBlock(BackPointers p, long block, long start, long rows)
    {
        var layout = p.Layout;
        int r = (int)rows, widest = layout.Widest, layers = layout.Hidden.Length, top = layout.Hidden[^1];
        // Scratch: e [rows], δ [rows][widest], dA and [dx dh] [rows][widest] each, and the recomputed y_p (every
        // preprocessing layer's). τ is recomputed in the cells' row pass.
        var scratch = ArrayPool<float>.Shared.Rent(r * (1 + 3 * widest + layout.PreWidths));
        try
        {
            fixed (float* sc = scratch)
            {
                float* e = sc, delta = sc + r, dA = delta + r * widest, dxh = dA + r * widest, ys = dxh + r * widest;
                if (layout.Pre.Length > 0) PreprocessBlock(layout, p.ForwardWeights, p.X + start * layout.Input, r, ys);
                float* part = p.Partials + block * layout.GradSize;
                float* headPart = part + layout.GradSize - layout.HeadGradSize;
                float* w = p.Weights + layout.CellGradOffset(layout.Hidden.Length);
                // Head: e = du·(1 − u²) (tanh) or du.
                for (int i = 0; i < r; i++)
                {
                    float g = p.DU is null ? 0f : p.DU[start + i];
                    if (layout.Tanh) { float ui = p.U[start + i]; g *= 1f - ui * ui; }
                    e[i] = g;
                }
                float* hTop = (float*)p.HNext[layers - 1] + start * top;
                LstmGemm.TransposedTimes(r, e, 1, null, 0, hTop, top, headPart);
                LstmGemm.ColumnSums(r, e, 1, headPart + top);
                LstmGemm.RowsTimes(r, e, 1, w, null, 0, null, null, delta, top);
                AddRows(delta, p.DHOut[layers - 1], start, r, top);
                // Cells, top down. Partials of layer l start after the preprocessing layers' and the cells' below it.
                for (int l = layers - 1; l >= 0; l--)
                {
                    int hd = layout.Hidden[l], g4 = 4 * hd, inputs = layout.CellInput(l), k = inputs + hd;
                    float* s = (float*)p.Gates[l] + start * g4, c = (float*)p.C[l] + start * hd, cn = (float*)p.CNext[l] + start * hd;
                    float* dcOut = p.DCOut[l] == IntPtr.Zero ? null : (float*)p.DCOut[l] + start * hd;
                    float* dcPrev = p.DC[l] == IntPtr.Zero ? dxh : (float*)p.DC[l] + start * hd;   // dxh is free until the product below
                    for (int i = 0; i < r; i++)
                        FusedLstmCell.BackwardRow(s + i * g4, null, cn + i * hd, c + i * hd, delta + i * hd, dcOut is null ? null : dcOut + i * hd,
                            dA + i * g4, dcPrev == dxh ? dxh : dcPrev + i * hd, hd);
                    float* cellPart = part + layout.CellGradOffset(l);
                    float* input = l > 0 ? (float*)p.HNext[l - 1] + start * inputs : layout.Pre.Length > 0 ? ys + r * layout.PreOffset(layout.Pre.Length - 1) : p.X + start * inputs;
                    LstmGemm.TransposedTimes(r, input, inputs, (float*)p.H[l] + start * hd, hd, dA, g4, cellPart);
                    LstmGemm.ColumnSums(r, dA, g4, cellPart + k * g4);
                    bool wantInput = l > 0 || layout.Pre.Length > 0;
                    if (!wantInput && p.DH[l] == IntPtr.Zero) continue;
                    LstmGemm.RowsTimes(r, dA, g4, p.Weights + layout.CellGradOffset(l), null, 0, null, null, dxh, k);
                    if (p.DH[l] != IntPtr.Zero) SplitRows(dxh + inputs, k, (float*)p.DH[l] + start * hd, hd, r, null);
                    if (!wantInput) continue;
                    // δ for the layer below: dx, plus that layer's own output gradient when it is a cell.
                    float* below = l > 0 && p.DHOut[l - 1] != IntPtr.Zero ? (float*)p.DHOut[l - 1] + start * inputs : null;
                    SplitRows(dxh, k, delta, inputs, r, below);
                }
                // Preprocessing layers, top down: δ holds the gradient at y_p.
                for (int q = layout.Pre.Length - 1; q >= 0; q--)
                {
                    int width = layout.Pre[q], inputs = layout.PreInput(q);
                    float* y = ys + r * layout.PreOffset(q);
                    LstmMath.EluBackwardInPlace(delta, y, (long)r * width);
                    float* prePart = part + layout.PreGradOffset(q);
                    float* input = q > 0 ? ys + r * layout.PreOffset(q - 1) : p.X + start * inputs;
                    LstmGemm.TransposedTimes(r, input, inputs, null, 0, delta, width, prePart);
                    LstmGemm.ColumnSums(r, delta, width, prePart + inputs * width);
                    if (q == 0) break;
                    LstmGemm.RowsTimes(r, delta, width, p.Weights + layout.PreGradOffset(q), null, 0, null, null, dxh, inputs);
                    new Span<float>(dxh, r * inputs).CopyTo(new Span<float>(delta, r * inputs));
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(scratch); }
    }

    // dst[i, 0:width] = src[i, 0:width] (+ add[i, 0:width]) for i < rows: src rows are srcStride apart, dst and add
    // rows dense. In registers, a row at a time (the rows are a few vectors wide: a copy call per row cost more than
    // the copy); a last vector overlapping the one before writes the same values again.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SplitRows(float* src, int srcStride, float* dst, int width, int rows, float* add)
    {
        const int w = 8;
        if (width < w || !Vector256.IsHardwareAccelerated)
        {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < width; j++)
                    dst[i * width + j] = add is null ? src[(long)i * srcStride + j] : src[(long)i * srcStride + j] + add[i * width + j];
            return;
        }
        for (int i = 0; i < rows; i++)
        {
            float* s = src + (long)i * srcStride, d = dst + i * width, a = add is null ? null : add + i * width;
            for (int j = 0; ; j += w)
            {
                if (j > width - w) j = width - w;
                var v = Vector256.Load(s + j);
                if (a is not null) v += Vector256.Load(a + j);
                v.Store(d + j);
                if (j == width - w) break;
            }
        }
    }

    // rows of dst [r][width] += rows start.. of src [N][width] (src null: nothing to add).
    private static unsafe void AddRows(float* dst, IntPtr src, long start, int r, int width)
    {
        if (src != IntPtr.Zero) LstmMath.AddInPlace(dst, (float*)src + start * width, (long)r * width);
    }

    /// <summary>
    /// The autograd node: inputs layout and pool (not tensors; the pool may be null), x, h_1..L, c_1..L, weights;
    /// outputs u, h'_1..L, c'_1..L.
    /// </summary>
    private sealed class Node : autograd.MultiTensorFunction<Node>
    {
        public override string Name => "FusedTeacherStep";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var layout = (Layout)vars[0];
            var pool = vars[1] as ActivationPool;
            int layers = layout.Hidden.Length;
            var x = (Tensor)vars[2];
            var h = vars.Skip(3).Take(layers).Cast<Tensor>().ToArray();
            var c = vars.Skip(3 + layers).Take(layers).Cast<Tensor>().ToArray();
            var weights = vars.Skip(3 + 2 * layers).Cast<Tensor>().ToArray();
            var f = Forward(layout, x, h, c, weights, pool);
            // Outputs are saved as detached aliases: the same memory, without the autograd history this node gives them
            // (saving an output itself would make the node hold itself).
            ctx.save_for_backward([x, .. h, .. c, .. weights, f.U.detach(), .. f.H.Select(t => t.detach()), .. f.C.Select(t => t.detach()), .. f.Saved]);
            ctx.save_data("layout", layout);
            ctx.save_data("pool", pool!);
            ctx.save_data("needs", h.Concat(c).Select(t => t.requires_grad).ToArray());
            ctx.set_materialize_grads(false);
            return [f.U, .. f.H, .. f.C];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            GradientHandOff.ReleasePrevious();
            List<Tensor> grads;
            using (NewDisposeScope())
            {
                var layout = (Layout)ctx.get_data("layout");
                var needs = (bool[])ctx.get_data("needs");
                var pool = ctx.get_data("pool") as ActivationPool;
                int layers = layout.Hidden.Length, nw = layout.WeightCount;
                var saved = ctx.get_saved_variables();
                var x = saved[0];
                var h = saved.GetRange(1, layers);
                var c = saved.GetRange(1 + layers, layers);
                var weights = saved.GetRange(1 + 2 * layers, nw);
                var u = saved[1 + 2 * layers + nw];
                var hNext = saved.GetRange(2 + 2 * layers + nw, layers);
                var cNext = saved.GetRange(2 + 3 * layers + nw, layers);
                var gates = saved.GetRange(2 + 4 * layers + nw, layers);
                var du = GradientHandOff.Defined(gradOutputs, 0);
                var dhOut = Enumerable.Range(0, layers).Select(l => GradientHandOff.Defined(gradOutputs, 1 + l)).ToArray();
                var dcOut = Enumerable.Range(0, layers).Select(l => GradientHandOff.Defined(gradOutputs, 1 + layers + l)).ToArray();
                var (dh, dc, dw) = Backward(layout, x, h, c, weights, u, hNext, cNext, gates, du, dhOut, dcOut, needs, pool);
                // One entry per argument of apply, the layout and pool included (null: no gradient).
                grads = GradientHandOff.HandOver([null!, null!, null!, .. dh.Select(t => t!), .. dc.Select(t => t!), .. dw]);
            }
            foreach (var g in gradOutputs) g?.Dispose();
            return grads;
        }
    }
}
