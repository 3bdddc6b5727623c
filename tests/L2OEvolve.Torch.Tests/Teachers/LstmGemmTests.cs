using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Teachers;

namespace L2OEvolve.Torch.Tests.Teachers;

public unsafe class LstmGemmTests
{
    private static float[] Random(int count, ulong seed)
    {
        var rng = new Rng(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(2 * rng.NextDouble() - 1))];
    }

    private static void AssertClose(float[] actual, double[] expected, int count, string what)
    {
        for (int i = 0; i < count; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5 * (1 + Math.Abs(expected[i]))), $"{what}[{i}]");
    }

    // Shapes cover full and short tiles of 4 rows, wide tiles of 40 columns, single vectors with an overlapping
    // last one, and rows narrower than a vector (the scalar path).
    [TestCase(1, 20, 20, 80)]
    [TestCase(7, 20, 20, 80)]
    [TestCase(13, 3, 5, 44)]
    [TestCase(9, 40, 0, 40)]
    [TestCase(6, 2, 7, 28)]
    [TestCase(5, 4, 3, 6)]
    [TestCase(37, 2, 0, 20)]
    [TestCase(37, 1, 0, 20)]
    [TestCase(9, 1, 1, 21)]
    [TestCase(9, 0, 2, 8)]
    public void RowsTimes_EqualsTheProductWithBias(int rows, int k1, int k2, int m)
    {
        var (a1, a2) = (Random(rows * k1, 1), Random(rows * k2, 2));
        var (b1, b2, bias) = (Random(k1 * m, 3), Random(k2 * m, 4), Random(m, 5));
        var c = new float[rows * m];
        var expected = new double[rows * m];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < m; j++)
            {
                double acc = bias[j];
                for (int k = 0; k < k1; k++) acc += (double)a1[r * k1 + k] * b1[k * m + j];
                for (int k = 0; k < k2; k++) acc += (double)a2[r * k2 + k] * b2[k * m + j];
                expected[r * m + j] = acc;
            }
        fixed (float* pa1 = a1, pa2 = a2, pb1 = b1, pb2 = b2, pbias = bias, pc = c)
            LstmGemm.RowsTimes(rows, pa1, k1, pb1, k2 == 0 ? null : pa2, k2, k2 == 0 ? null : pb2, pbias, pc, m);
        AssertClose(c, expected, c.Length, "C");
    }

    [TestCase(1, 20, 20, 80)]
    [TestCase(300, 20, 20, 80)]
    [TestCase(37, 2, 20, 80)]
    [TestCase(11, 3, 4, 28)]
    [TestCase(5, 1, 2, 6)]
    public void TransposedTimes_EqualsTheTransposedProduct(int rows, int k1, int k2, int m)
    {
        var (a1, a2, b) = (Random(rows * k1, 6), Random(rows * k2, 7), Random(rows * m, 8));
        var c = Enumerable.Repeat(float.NaN, (k1 + k2) * m).ToArray();
        var expected = new double[(k1 + k2) * m];
        for (int k = 0; k < k1 + k2; k++)
            for (int j = 0; j < m; j++)
            {
                double acc = 0;
                for (int r = 0; r < rows; r++) acc += (k < k1 ? a1[r * k1 + k] : a2[r * k2 + k - k1]) * (double)b[r * m + j];
                expected[k * m + j] = acc;
            }
        fixed (float* pa1 = a1, pa2 = a2, pb = b, pc = c)
            LstmGemm.TransposedTimes(rows, pa1, k1, pa2, k2, pb, m, pc);
        AssertClose(c, expected, c.Length, "C");
    }

    // Widths mixing every tile: 80 columns of 16-lane vectors (where AVX-512 runs), 40 of 8-lane ones, single
    // vectors and an overlapping last one; k not a multiple of 4. Then one or two k on at most 24 columns, which
    // take one pass over the rows for every column (a preprocessing layer's 2 features, the head's single output;
    // 8, 13, 20 and 24 columns), and just past that (25, back to the tiles).
    [TestCase(37, 3, 4, 80)]
    [TestCase(37, 20, 20, 128)]
    [TestCase(5, 2, 1, 141)]
    [TestCase(37, 1, 0, 20)]
    [TestCase(37, 2, 0, 20)]
    [TestCase(300, 1, 1, 8)]
    [TestCase(9, 0, 2, 24)]
    [TestCase(9, 0, 1, 13)]
    [TestCase(9, 2, 0, 25)]
    public void TransposedTimes_EveryOutputIsOneMultiplyAddChainOverTheRows_WhicheverTileComputesIt(int rows, int k1, int k2, int m)
    {
        var (a1, a2, b) = (Random(rows * k1, 15), Random(rows * k2, 16), Random(rows * m, 17));
        var c = new float[(k1 + k2) * m];
        fixed (float* pa1 = a1, pa2 = a2, pb = b, pc = c)
            LstmGemm.TransposedTimes(rows, pa1, k1, pa2, k2, pb, m, pc);
        for (int k = 0; k < k1 + k2; k++)
            for (int j = 0; j < m; j++)
            {
                float acc = 0f;
                for (int r = 0; r < rows; r++)
                    acc = MathF.FusedMultiplyAdd(k < k1 ? a1[r * k1 + k] : a2[r * k2 + k - k1], b[r * m + j], acc);
                Assert.That(BitConverter.SingleToInt32Bits(c[k * m + j]), Is.EqualTo(BitConverter.SingleToInt32Bits(acc)), $"C[{k}, {j}]");
            }
    }

    // One or two k take their own path (B's vectors held in registers); its outputs are still the multiply-add chain
    // from the bias (or zero) over A1's k and then A2's, as in the strips.
    [TestCase(1, 0, true)]
    [TestCase(2, 0, true)]
    [TestCase(1, 1, false)]
    [TestCase(0, 2, true)]
    [TestCase(0, 0, true)]
    public void RowsTimes_OneOrTwoK_EveryOutputIsTheMultiplyAddChainFromItsBias(int k1, int k2, bool withBias)
    {
        const int rows = 13, m = 20;
        var (a1, a2, b1, b2, bias) = (Random(rows * Math.Max(k1, 1), 21), Random(rows * Math.Max(k2, 1), 22),
            Random(Math.Max(k1, 1) * m, 23), Random(Math.Max(k2, 1) * m, 24), Random(m, 25));
        var c = new float[rows * m];
        fixed (float* pa1 = a1, pa2 = a2, pb1 = b1, pb2 = b2, pbias = bias, pc = c)
            LstmGemm.RowsTimes(rows, pa1, k1, pb1, pa2, k2, pb2, withBias ? pbias : null, pc, m);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < m; j++)
            {
                float acc = withBias ? bias[j] : 0f;
                for (int k = 0; k < k1; k++) acc = MathF.FusedMultiplyAdd(a1[r * k1 + k], b1[k * m + j], acc);
                for (int k = 0; k < k2; k++) acc = MathF.FusedMultiplyAdd(a2[r * k2 + k], b2[k * m + j], acc);
                Assert.That(BitConverter.SingleToInt32Bits(c[r * m + j]), Is.EqualTo(BitConverter.SingleToInt32Bits(acc)), $"C[{r}, {j}]");
            }
    }

    [Test]
    public void RowsTimes_RowsComputedInAnyGrouping_SameBits()
    {
        const int rows = 23, k1 = 20, k2 = 20, m = 80;
        var (a1, a2, b1, b2, bias) = (Random(rows * k1, 9), Random(rows * k2, 10), Random(k1 * m, 11), Random(k2 * m, 12), Random(m, 13));
        var whole = new float[rows * m];
        var oneByOne = new float[rows * m];
        fixed (float* pa1 = a1, pa2 = a2, pb1 = b1, pb2 = b2, pbias = bias, pw = whole, po = oneByOne)
        {
            LstmGemm.RowsTimes(rows, pa1, k1, pb1, pa2, k2, pb2, pbias, pw, m);
            for (int r = 0; r < rows; r++)
                LstmGemm.RowsTimes(1, pa1 + r * k1, k1, pb1, pa2 + r * k2, k2, pb2, pbias, po + r * m, m);
        }
        Assert.That(oneByOne, Is.EqualTo(whole));
    }

    [Test]
    public void ColumnSums_SumsEveryColumn()
    {
        const int rows = 9, m = 13;
        var b = Random(rows * m, 14);
        var sums = new float[m];
        fixed (float* pb = b, ps = sums) LstmGemm.ColumnSums(rows, pb, m, ps);
        for (int j = 0; j < m; j++)
            Assert.That(sums[j], Is.EqualTo(Enumerable.Range(0, rows).Sum(r => (double)b[r * m + j])).Within(1e-5));
    }
}
