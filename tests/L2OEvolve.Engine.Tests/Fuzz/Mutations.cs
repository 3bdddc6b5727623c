using System.Text;
using CsCheck;

namespace L2OEvolve.Engine.Tests.Fuzz;

/// <summary>
/// Generators of hostile inputs by mutation: a valid seed input with a few edits that a hand, a bad script or a
/// damaged disk makes (a cut, a stray token, an extreme number, a repeated key, a byte flipped).
/// </summary>
public static class Mutations
{
    /// <summary>Fragments that break parsers in interesting ways: structure, extreme numbers, reserved names, odd text.</summary>
    public static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ",", ":", "\"", "(", ")", "+", "-", "*", "/", "^", ".", "e", "\n", "\r\n", "\t", " ", ",,", "''",
        "1e400", "-1e400", "1e-50", "-0", "0", "-1", "2147483648", "-2147483649", "99999999999999999999", "1e9", "NaN", "nan",
        "inf", "Infinity", "null", "true", "\"\"", "\\u0000", "\u0000", "é", "\uFFFF", "\uD800", "sin", "sin(", "ema(0.9, ",
        "ema(2, ", "lag(0, ", "lag(3000000000, ", "x0", "x0 + x0 + x0", "\"name\": \"a\"", "\"maxsize\": 1000000",
        "\"features\": [\"g[0..1000000]\"]", "\"operators\": {}", "/*", "//", "x1+x2", "a b",
    ];

    /// <summary>One edit: its kind, where (a fraction of the length), how far, and the token it may insert.</summary>
    public readonly record struct Edit(int Kind, double At, int Length, string Token);

    private static readonly Gen<Edit> OneEdit =
        from kind in Gen.Int[0, 5]
        from at in Gen.Double[0, 1]
        from length in Gen.Int[1, 12]
        from token in Gen.OneOf(Tokens)
        select new Edit(kind, at, length, token);

    /// <summary><paramref name="seed"/> with one to four random edits.</summary>
    public static Gen<string> Of(string seed) => OneEdit.Array[1, 4].Select(edits => Apply(seed, edits));

    /// <summary>One of <paramref name="seeds"/> with one to four random edits.</summary>
    public static Gen<string> OfAny(params string[] seeds) =>
        from i in Gen.Int[0, seeds.Length - 1]
        from edits in OneEdit.Array[1, 4]
        select Apply(seeds[i], edits);

    /// <summary><paramref name="seed"/> bytes with random bytes flipped, cut or repeated.</summary>
    public static Gen<byte[]> OfBytes(byte[] seed) =>
        from edits in OneEdit.Array[1, 4]
        from noise in Gen.Byte.Array[1, 8]
        select ApplyBytes(seed, edits, noise);

    public static string Apply(string text, IEnumerable<Edit> edits)
    {
        var sb = new StringBuilder(text);
        foreach (var e in edits)
        {
            int at = Math.Min(sb.Length, (int)(e.At * sb.Length));
            int len = Math.Min(e.Length, sb.Length - at);
            switch (e.Kind)
            {
                case 0: sb.Remove(at, len); break;                                   // a cut
                case 1: sb.Insert(at, e.Token); break;                               // a stray token
                case 2: sb.Remove(at, len).Insert(at, e.Token); break;              // a replacement
                case 3: sb.Insert(at, sb.ToString(at, len)); break;                  // a repeat (duplicate keys, terms)
                case 4: sb.Length = at; break;                                       // truncation
                default: sb.Insert(at, string.Concat(Enumerable.Repeat(e.Token, 50 * e.Length))); break; // a long run
            }
        }
        return sb.ToString();
    }

    private static byte[] ApplyBytes(byte[] seed, IEnumerable<Edit> edits, byte[] noise)
    {
        var bytes = new List<byte>(seed);
        foreach (var e in edits)
        {
            int at = Math.Min(bytes.Count, (int)(e.At * bytes.Count));
            int len = Math.Min(e.Length, bytes.Count - at);
            switch (e.Kind)
            {
                case 0: bytes.RemoveRange(at, len); break;
                case 1: bytes.InsertRange(at, noise); break;
                case 2: for (int i = 0; i < len && i < noise.Length; i++) bytes[at + i] = noise[i]; break;
                case 3: bytes.InsertRange(at, bytes.GetRange(at, len)); break;
                case 4: bytes.RemoveRange(at, bytes.Count - at); break;
                default: if (at < bytes.Count) bytes[at] ^= (byte)(1 << (e.Length % 8)); break;
            }
        }
        return [.. bytes];
    }
}
