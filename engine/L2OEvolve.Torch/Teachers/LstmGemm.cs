using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// The dense products of the fused LSTM cell for its tall-skinny shapes (tens of thousands of rows, tens of
/// columns), as register-blocked 8-wide fused multiply-add loops run inside the cell's passes over row blocks.
/// </summary>
/// <remarks>
/// Why not BLAS: the cell's products are [N, 20]·[20, 80] and the like. A library call per product pays for its
/// dispatch and packing and makes one more pass over memory, while here each product runs on a block of rows that
/// the cell's elementwise work has just touched (or is about to), still in cache.
/// <code>
/// RowsTimes:       C[r, :] = bias + Σ_k A1[r, k]·B1[k, :] + Σ_k A2[r, k]·B2[k, :]     (forward gates; dA·W)
/// TransposedTimes: C[k, :] = Σ_r A[r, k]·B[r, :]  with A = [A1 A2] side by side      (Xᵀ·dA: weight gradients)
/// </code>
/// Tiles are 4 rows (or 4 k) × 5 vectors of 8 (of 16 for TransposedTimes where AVX-512 runs): twenty accumulators
/// held in registers over the whole k (or r) loop.
/// Every output element is one fused multiply-add chain in increasing k (or r), started from its bias or zero,
/// whichever tile computes it. So edges need no special code: a last tile that overlaps its neighbour (repeating a
/// row, a k or a column) writes the same value twice, and results do not depend on how rows are split into blocks
/// for threads. The scalar path (rows narrower than a vector, or no SIMD) runs the same chains.
/// </remarks>
internal static unsafe class LstmGemm
{
    private const int W = 8;          // floats per Vector256
    private const int Chunk = 5 * W;  // columns per wide tile
    private const int WideChunk = 80; // columns per tile of 16-lane vectors

    /// <summary>
    /// C[r, 0:m] = bias + A1[r, 0:k1]·B1 + A2[r, 0:k2]·B2 for r in [0, rows): A1 is [rows][k1], A2 [rows][k2],
    /// B1 [k1][m], B2 [k2][m], C [rows][m], all row-major and dense. <paramref name="a2"/> may be null with k2 = 0,
    /// <paramref name="bias"/> null for zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowsTimes(int rows, float* a1, int k1, float* b1, float* a2, int k2, float* b2, float* bias, float* c, int m)
    {
        if (rows <= 0) return;
        if (m < W || !Vector256.IsHardwareAccelerated)
        {
            // Four rows at once: four independent chains keep the multiply-add unit busy (one chain waits on itself).
            for (int r = 0; r < rows; r += 4)
            {
                int r1 = Math.Min(r + 1, rows - 1), r2 = Math.Min(r + 2, rows - 1), r3 = Math.Min(r + 3, rows - 1);
                for (int j = 0; j < m; j++)
                {
                    float x0 = bias is null ? 0f : bias[j], x1 = x0, x2 = x0, x3 = x0;
                    for (int k = 0; k < k1; k++)
                    {
                        float b = b1[k * m + j];
                        x0 = MathF.FusedMultiplyAdd(a1[(long)r * k1 + k], b, x0);
                        x1 = MathF.FusedMultiplyAdd(a1[(long)r1 * k1 + k], b, x1);
                        x2 = MathF.FusedMultiplyAdd(a1[(long)r2 * k1 + k], b, x2);
                        x3 = MathF.FusedMultiplyAdd(a1[(long)r3 * k1 + k], b, x3);
                    }
                    for (int k = 0; k < k2; k++)
                    {
                        float b = b2[k * m + j];
                        x0 = MathF.FusedMultiplyAdd(a2[(long)r * k2 + k], b, x0);
                        x1 = MathF.FusedMultiplyAdd(a2[(long)r1 * k2 + k], b, x1);
                        x2 = MathF.FusedMultiplyAdd(a2[(long)r2 * k2 + k], b, x2);
                        x3 = MathF.FusedMultiplyAdd(a2[(long)r3 * k2 + k], b, x3);
                    }
                    c[(long)r3 * m + j] = x3; c[(long)r2 * m + j] = x2; c[(long)r1 * m + j] = x1; c[(long)r * m + j] = x0;
                }
            }
            return;
        }
        var o = new Operands(a1, k1, b1, a2, k2, b2, rows);
        if (k1 + k2 <= 2)
        {
            // One or two k (a preprocessing layer on its features, the head's backward): B's vectors stay in
            // registers and each row is one or two multiply-adds per vector, with no strip or k loop around them.
            for (int col = 0; col < m; col += W) RowsNarrow(o, bias, c, m, Math.Min(col, m - W));
            return;
        }
        int at = 0;
        for (; at + Chunk <= m; at += Chunk) RowStrip5(o, bias, c, m, at);
        for (; at < m; at += W) RowStrip1(o, bias, c, m, Math.Min(at, m - W));
    }

    // Columns col..col+7 of every row for k1 + k2 ≤ 2: the same chain as RowStrip1 (bias or zero, then A1's k, then
    // A2's), so the same bits.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsNarrow(Operands t, float* bias, float* c, int m, int col)
    {
        var z = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + col);
        if (t.K1 + t.K2 == 0)
        {
            for (int r = 0; r < t.Rows; r++) z.Store(c + (long)r * m + col);
            return;
        }
        // The (up to two) k in chain order, each as its column of A (stride) and its row of B.
        float* a0 = t.K1 > 0 ? t.A1 : t.A2, a1 = t.K1 > 1 ? t.A1 + 1 : t.K1 == 1 && t.K2 > 0 ? t.A2 : t.A2 + 1;
        int s0 = t.K1 > 0 ? t.K1 : t.K2, s1 = t.K1 > 1 ? t.K1 : t.K2;
        var v0 = Vector256.Load((t.K1 > 0 ? t.B1 : t.B2) + col);
        if (t.K1 + t.K2 == 1)
        {
            for (int r = 0; r < t.Rows; r++)
                Vector256.FusedMultiplyAdd(Vector256.Create(a0[(long)r * s0]), v0, z).Store(c + (long)r * m + col);
            return;
        }
        var v1 = Vector256.Load((t.K1 > 1 ? t.B1 + m : t.K1 == 1 ? t.B2 : t.B2 + m) + col);
        for (int r = 0; r < t.Rows; r++)
        {
            var acc = Vector256.FusedMultiplyAdd(Vector256.Create(a0[(long)r * s0]), v0, z);
            Vector256.FusedMultiplyAdd(Vector256.Create(a1[(long)r * s1]), v1, acc).Store(c + (long)r * m + col);
        }
    }

    private readonly struct Operands(float* a1, int k1, float* b1, float* a2, int k2, float* b2, int rows)
    {
        public readonly float* A1 = a1, B1 = b1, A2 = a2, B2 = b2;
        public readonly int K1 = k1, K2 = k2, Rows = rows;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowStrip5(Operands t, float* bias, float* c, int m, int col)
    {
        // Strips of 4 rows; a short last strip repeats its last row, which writes the same values again.
        for (int r0 = 0; r0 < t.Rows; r0 += 4)
        {
            int r1 = Math.Min(r0 + 1, t.Rows - 1), r2 = Math.Min(r0 + 2, t.Rows - 1), r3 = Math.Min(r0 + 3, t.Rows - 1);
            var z0 = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + col);
            var z1 = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + col + W);
            var z2 = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + col + 2 * W);
            var z3 = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + col + 3 * W);
            var z4 = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + col + 4 * W);
            Vector256<float> c00 = z0, c01 = z1, c02 = z2, c03 = z3, c04 = z4;
            Vector256<float> c10 = z0, c11 = z1, c12 = z2, c13 = z3, c14 = z4;
            Vector256<float> c20 = z0, c21 = z1, c22 = z2, c23 = z3, c24 = z4;
            Vector256<float> c30 = z0, c31 = z1, c32 = z2, c33 = z3, c34 = z4;
            for (int s = 0; s < 2; s++)
            {
                int kk = s == 0 ? t.K1 : t.K2;
                float* a = s == 0 ? t.A1 : t.A2;
                float* b = (s == 0 ? t.B1 : t.B2) + col;
                float* p0 = a + (long)r0 * kk, p1 = a + (long)r1 * kk, p2 = a + (long)r2 * kk, p3 = a + (long)r3 * kk;
                for (int k = 0; k < kk; k++, b += m)
                {
                    var v0 = Vector256.Load(b);
                    var v1 = Vector256.Load(b + W);
                    var v2 = Vector256.Load(b + 2 * W);
                    var v3 = Vector256.Load(b + 3 * W);
                    var v4 = Vector256.Load(b + 4 * W);
                    var x = Vector256.Create(p0[k]);
                    c00 = Vector256.FusedMultiplyAdd(x, v0, c00); c01 = Vector256.FusedMultiplyAdd(x, v1, c01);
                    c02 = Vector256.FusedMultiplyAdd(x, v2, c02); c03 = Vector256.FusedMultiplyAdd(x, v3, c03);
                    c04 = Vector256.FusedMultiplyAdd(x, v4, c04);
                    x = Vector256.Create(p1[k]);
                    c10 = Vector256.FusedMultiplyAdd(x, v0, c10); c11 = Vector256.FusedMultiplyAdd(x, v1, c11);
                    c12 = Vector256.FusedMultiplyAdd(x, v2, c12); c13 = Vector256.FusedMultiplyAdd(x, v3, c13);
                    c14 = Vector256.FusedMultiplyAdd(x, v4, c14);
                    x = Vector256.Create(p2[k]);
                    c20 = Vector256.FusedMultiplyAdd(x, v0, c20); c21 = Vector256.FusedMultiplyAdd(x, v1, c21);
                    c22 = Vector256.FusedMultiplyAdd(x, v2, c22); c23 = Vector256.FusedMultiplyAdd(x, v3, c23);
                    c24 = Vector256.FusedMultiplyAdd(x, v4, c24);
                    x = Vector256.Create(p3[k]);
                    c30 = Vector256.FusedMultiplyAdd(x, v0, c30); c31 = Vector256.FusedMultiplyAdd(x, v1, c31);
                    c32 = Vector256.FusedMultiplyAdd(x, v2, c32); c33 = Vector256.FusedMultiplyAdd(x, v3, c33);
                    c34 = Vector256.FusedMultiplyAdd(x, v4, c34);
                }
            }
            Store5(c + (long)r3 * m + col, c30, c31, c32, c33, c34);
            Store5(c + (long)r2 * m + col, c20, c21, c22, c23, c24);
            Store5(c + (long)r1 * m + col, c10, c11, c12, c13, c14);
            Store5(c + (long)r0 * m + col, c00, c01, c02, c03, c04);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowStrip1(Operands t, float* bias, float* c, int m, int col)
    {
        // Strips of 4 rows; a short last strip repeats its last row, which writes the same values again.
        for (int r0 = 0; r0 < t.Rows; r0 += 4)
        {
            int r1 = Math.Min(r0 + 1, t.Rows - 1), r2 = Math.Min(r0 + 2, t.Rows - 1), r3 = Math.Min(r0 + 3, t.Rows - 1);
            var z = bias is null ? Vector256<float>.Zero : Vector256.Load(bias + col);
            Vector256<float> c0 = z, c1 = z, c2 = z, c3 = z;
            for (int s = 0; s < 2; s++)
            {
                int kk = s == 0 ? t.K1 : t.K2;
                float* a = s == 0 ? t.A1 : t.A2;
                float* b = (s == 0 ? t.B1 : t.B2) + col;
                float* p0 = a + (long)r0 * kk, p1 = a + (long)r1 * kk, p2 = a + (long)r2 * kk, p3 = a + (long)r3 * kk;
                for (int k = 0; k < kk; k++, b += m)
                {
                    var v = Vector256.Load(b);
                    c0 = Vector256.FusedMultiplyAdd(Vector256.Create(p0[k]), v, c0);
                    c1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[k]), v, c1);
                    c2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[k]), v, c2);
                    c3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[k]), v, c3);
                }
            }
            c3.Store(c + (long)r3 * m + col);
            c2.Store(c + (long)r2 * m + col);
            c1.Store(c + (long)r1 * m + col);
            c0.Store(c + (long)r0 * m + col);
        }
    }

    /// <summary>
    /// C[k, 0:m] = Σ_{r &lt; rows} A[r, k]·B[r, 0:m] for k in [0, k1 + k2), where A's first k1 columns are A1
    /// [rows][k1] and the next k2 are A2 [rows][k2]; B is [rows][m], C [k1 + k2][m] (overwritten), all row-major.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposedTimes(int rows, float* a1, int k1, float* a2, int k2, float* b, int m, float* c)
    {
        int kTotal = k1 + k2;
        if (kTotal == 0) return;
        if (m < W || !Vector256.IsHardwareAccelerated)
        {
            for (int k = 0; k < kTotal; k++)
            {
                var (first, stride) = Column(a1, k1, a2, k2, k);
                float* a = (float*)first;
                for (int j = 0; j < m; j++)
                {
                    float acc = 0f;
                    for (int r = 0; r < rows; r++) acc = MathF.FusedMultiplyAdd(a[(long)r * stride], b[(long)r * m + j], acc);
                    c[k * m + j] = acc;
                }
            }
            return;
        }
        if (kTotal <= 2 && m <= NarrowColumns)
        {
            ColumnsNarrow(rows, Column(a1, k1, a2, k2, 0), Column(a1, k1, a2, k2, kTotal - 1), kTotal, b, m, c);
            return;
        }
        for (int k = 0; k < kTotal; k += 4)
        {
            // A short last tile repeats its last k: the repeat writes the same values again.
            var t = new ColumnTile(Column(a1, k1, a2, k2, k), Column(a1, k1, a2, k2, Math.Min(k + 1, kTotal - 1)),
                Column(a1, k1, a2, k2, Math.Min(k + 2, kTotal - 1)), Column(a1, k1, a2, k2, Math.Min(k + 3, kTotal - 1)),
                k, Math.Min(k + 1, kTotal - 1), Math.Min(k + 2, kTotal - 1), Math.Min(k + 3, kTotal - 1));
            int col = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; col + WideChunk <= m; col += WideChunk) ColumnTileWide(t, rows, b, m, c, col);
            for (; col + Chunk <= m; col += Chunk) ColumnTile5(t, rows, b, m, c, col);
            for (; col < m; col += W) ColumnTile1(t, rows, b, m, c, Math.Min(col, m - W));
        }
    }

    private const int NarrowColumns = 3 * W;

    // One or two k (a preprocessing layer's 2 features, the head's one output) and at most 24 columns: every k and
    // column vector of C in one pass over the rows, so their chains run side by side (tiles of 4 k, one column vector
    // each, would pass over the rows once per vector with two to four of their chains repeating). Each output is
    // the same chain from zero in increasing r, so the same bits; an overlapping last vector repeats its values.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnsNarrow(int rows, (IntPtr First, int Stride) a0, (IntPtr First, int Stride) a1, int kTotal, float* b, int m, float* c)
    {
        int j1 = Math.Min(W, m - W), j2 = Math.Min(2 * W, m - W);
        Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        float* p0 = (float*)a0.First, p1 = (float*)a1.First;
        float* br = b;
        for (int r = 0; r < rows; r++, br += m, p0 += a0.Stride, p1 += a1.Stride)
        {
            var v0 = Vector256.Load(br);
            var v1 = Vector256.Load(br + j1);
            var v2 = Vector256.Load(br + j2);
            var x = Vector256.Create(*p0);
            c00 = Vector256.FusedMultiplyAdd(x, v0, c00); c01 = Vector256.FusedMultiplyAdd(x, v1, c01); c02 = Vector256.FusedMultiplyAdd(x, v2, c02);
            x = Vector256.Create(*p1);
            c10 = Vector256.FusedMultiplyAdd(x, v0, c10); c11 = Vector256.FusedMultiplyAdd(x, v1, c11); c12 = Vector256.FusedMultiplyAdd(x, v2, c12);
        }
        // Second k first: with one k it is the first again and the first's stores below write the same values.
        float* row = c + (long)(kTotal - 1) * m;
        c12.Store(row + j2); c11.Store(row + j1); c10.Store(row);
        c02.Store(c + j2); c01.Store(c + j1); c00.Store(c);
    }

    // Column k of [A1 A2]: its first element and the distance between its elements.
    private static (IntPtr First, int Stride) Column(float* a1, int k1, float* a2, int k2, int k) =>
        k < k1 ? ((IntPtr)(a1 + k), k1) : ((IntPtr)(a2 + (k - k1)), k2);

    private readonly struct ColumnTile((IntPtr, int) a0, (IntPtr, int) a1, (IntPtr, int) a2, (IntPtr, int) a3, int k0, int k1, int k2, int k3)
    {
        public readonly float* P0 = (float*)a0.Item1, P1 = (float*)a1.Item1, P2 = (float*)a2.Item1, P3 = (float*)a3.Item1;
        public readonly int S0 = a0.Item2, S1 = a1.Item2, S2 = a2.Item2, S3 = a3.Item2, K0 = k0, K1 = k1, K2 = k2, K3 = k3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnTile5(ColumnTile t, int rows, float* b, int m, float* c, int col)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        float* p0 = t.P0, p1 = t.P1, p2 = t.P2, p3 = t.P3;
        float* br = b + col;
        for (int r = 0; r < rows; r++, br += m, p0 += t.S0, p1 += t.S1, p2 += t.S2, p3 += t.S3)
        {
            var v0 = Vector256.Load(br);
            var v1 = Vector256.Load(br + W);
            var v2 = Vector256.Load(br + 2 * W);
            var v3 = Vector256.Load(br + 3 * W);
            var v4 = Vector256.Load(br + 4 * W);
            var x = Vector256.Create(*p0);
            c00 = Vector256.FusedMultiplyAdd(x, v0, c00); c01 = Vector256.FusedMultiplyAdd(x, v1, c01);
            c02 = Vector256.FusedMultiplyAdd(x, v2, c02); c03 = Vector256.FusedMultiplyAdd(x, v3, c03);
            c04 = Vector256.FusedMultiplyAdd(x, v4, c04);
            x = Vector256.Create(*p1);
            c10 = Vector256.FusedMultiplyAdd(x, v0, c10); c11 = Vector256.FusedMultiplyAdd(x, v1, c11);
            c12 = Vector256.FusedMultiplyAdd(x, v2, c12); c13 = Vector256.FusedMultiplyAdd(x, v3, c13);
            c14 = Vector256.FusedMultiplyAdd(x, v4, c14);
            x = Vector256.Create(*p2);
            c20 = Vector256.FusedMultiplyAdd(x, v0, c20); c21 = Vector256.FusedMultiplyAdd(x, v1, c21);
            c22 = Vector256.FusedMultiplyAdd(x, v2, c22); c23 = Vector256.FusedMultiplyAdd(x, v3, c23);
            c24 = Vector256.FusedMultiplyAdd(x, v4, c24);
            x = Vector256.Create(*p3);
            c30 = Vector256.FusedMultiplyAdd(x, v0, c30); c31 = Vector256.FusedMultiplyAdd(x, v1, c31);
            c32 = Vector256.FusedMultiplyAdd(x, v2, c32); c33 = Vector256.FusedMultiplyAdd(x, v3, c33);
            c34 = Vector256.FusedMultiplyAdd(x, v4, c34);
        }
        Store5(c + (long)t.K3 * m + col, c30, c31, c32, c33, c34);
        Store5(c + (long)t.K2 * m + col, c20, c21, c22, c23, c24);
        Store5(c + (long)t.K1 * m + col, c10, c11, c12, c13, c14);
        Store5(c + (long)t.K0 * m + col, c00, c01, c02, c03, c04);
    }

    // ColumnTile5 on 16-lane vectors: 4 k × 80 columns. Each output is the same chain as in the narrower tiles; a
    // 512-bit multiply-add issues as one operation, so for the same arithmetic the loop issues half as many (measured
    // on a CPU that executes it as two 256-bit halves: about a sixth faster than ColumnTile5 on the [N, 80] gradients).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnTileWide(ColumnTile t, int rows, float* b, int m, float* c, int col)
    {
        const int V = 16;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c04 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default, c14 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c24 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default, c34 = default;
        float* p0 = t.P0, p1 = t.P1, p2 = t.P2, p3 = t.P3;
        float* br = b + col;
        for (int r = 0; r < rows; r++, br += m, p0 += t.S0, p1 += t.S1, p2 += t.S2, p3 += t.S3)
        {
            var v0 = Vector512.Load(br);
            var v1 = Vector512.Load(br + V);
            var v2 = Vector512.Load(br + 2 * V);
            var v3 = Vector512.Load(br + 3 * V);
            var v4 = Vector512.Load(br + 4 * V);
            var x = Vector512.Create(*p0);
            c00 = Vector512.FusedMultiplyAdd(x, v0, c00); c01 = Vector512.FusedMultiplyAdd(x, v1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, v2, c02); c03 = Vector512.FusedMultiplyAdd(x, v3, c03);
            c04 = Vector512.FusedMultiplyAdd(x, v4, c04);
            x = Vector512.Create(*p1);
            c10 = Vector512.FusedMultiplyAdd(x, v0, c10); c11 = Vector512.FusedMultiplyAdd(x, v1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, v2, c12); c13 = Vector512.FusedMultiplyAdd(x, v3, c13);
            c14 = Vector512.FusedMultiplyAdd(x, v4, c14);
            x = Vector512.Create(*p2);
            c20 = Vector512.FusedMultiplyAdd(x, v0, c20); c21 = Vector512.FusedMultiplyAdd(x, v1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, v2, c22); c23 = Vector512.FusedMultiplyAdd(x, v3, c23);
            c24 = Vector512.FusedMultiplyAdd(x, v4, c24);
            x = Vector512.Create(*p3);
            c30 = Vector512.FusedMultiplyAdd(x, v0, c30); c31 = Vector512.FusedMultiplyAdd(x, v1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, v2, c32); c33 = Vector512.FusedMultiplyAdd(x, v3, c33);
            c34 = Vector512.FusedMultiplyAdd(x, v4, c34);
        }
        StoreWide(c + (long)t.K3 * m + col, c30, c31, c32, c33, c34);
        StoreWide(c + (long)t.K2 * m + col, c20, c21, c22, c23, c24);
        StoreWide(c + (long)t.K1 * m + col, c10, c11, c12, c13, c14);
        StoreWide(c + (long)t.K0 * m + col, c00, c01, c02, c03, c04);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreWide(float* p, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, Vector512<float> e)
    {
        a.Store(p); b.Store(p + 16); c.Store(p + 32); d.Store(p + 48); e.Store(p + 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnTile1(ColumnTile t, int rows, float* b, int m, float* c, int col)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        float* p0 = t.P0, p1 = t.P1, p2 = t.P2, p3 = t.P3;
        float* br = b + col;
        for (int r = 0; r < rows; r++, br += m, p0 += t.S0, p1 += t.S1, p2 += t.S2, p3 += t.S3)
        {
            var v = Vector256.Load(br);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(*p0), v, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(*p1), v, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(*p2), v, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(*p3), v, c3);
        }
        c3.Store(c + (long)t.K3 * m + col);
        c2.Store(c + (long)t.K2 * m + col);
        c1.Store(c + (long)t.K1 * m + col);
        c0.Store(c + (long)t.K0 * m + col);
    }

    /// <summary>sums[j] = Σ_{r &lt; rows} B[r, j] for B [rows][m] row-major, summed in increasing r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnSums(int rows, float* b, int m, float* sums)
    {
        if (m < W || !Vector256.IsHardwareAccelerated)
        {
            for (int j = 0; j < m; j++)
            {
                float acc = 0f;
                for (int r = 0; r < rows; r++) acc += b[(long)r * m + j];
                sums[j] = acc;
            }
            return;
        }
        // Column vectors in register accumulators (an overlapping last one repeats the same sums).
        for (int col = 0; col < m; col += Chunk)
        {
            int c0 = Math.Min(col, m - W), c1 = Math.Min(col + W, m - W), c2 = Math.Min(col + 2 * W, m - W),
                c3 = Math.Min(col + 3 * W, m - W), c4 = Math.Min(col + 4 * W, m - W);
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default;
            float* row = b;
            for (int r = 0; r < rows; r++, row += m)
            {
                s0 += Vector256.Load(row + c0); s1 += Vector256.Load(row + c1); s2 += Vector256.Load(row + c2);
                s3 += Vector256.Load(row + c3); s4 += Vector256.Load(row + c4);
            }
            s4.Store(sums + c4); s3.Store(sums + c3); s2.Store(sums + c2); s1.Store(sums + c1); s0.Store(sums + c0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store5(float* p, Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d, Vector256<float> e)
    {
        a.Store(p); b.Store(p + W); c.Store(p + 2 * W); d.Store(p + 3 * W); e.Store(p + 4 * W);
    }
}
