using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Search;

public class BoundedCacheTests
{
    [Test]
    public void Add_ThenTryGet_ReturnsTheValue_AndCountsHitsAndMisses()
    {
        var cache = new BoundedCache<string, int>(16);
        Assert.That(cache.TryGet(7, "a", out _), Is.False);
        cache.Add(7, "a", 1);
        Assert.That(cache.TryGet(7, "a", out int value), Is.True);
        Assert.That(value, Is.EqualTo(1));
        Assert.That((cache.Hits, cache.Misses, cache.Count), Is.EqualTo((1L, 1L, 1)));
    }

    [Test]
    public void TryGet_SameHashDifferentKey_IsAMissCountedAsACollision()
    {
        var cache = new BoundedCache<string, int>(16);
        cache.Add(42, "a", 1);
        Assert.That(cache.TryGet(42, "b", out _), Is.False, "a hash match alone must never answer");
        Assert.That(cache.Collisions, Is.EqualTo(1));
        cache.Add(42, "b", 2);
        Assert.That(cache.TryGet(42, "a", out int a) && cache.TryGet(42, "b", out int b) ? (a, b) : default, Is.EqualTo((1, 2)),
            "two keys with one hash share the set's two ways");
    }

    [Test]
    public void Add_ManyMoreKeysThanCapacity_KeepsAtMostCapacity_AndTheNewestEntries()
    {
        var cache = new BoundedCache<int, int>(64);
        for (int i = 0; i < 10_000; i++) cache.Add(Hash(i), i, -i);
        Assert.That(cache.Capacity, Is.EqualTo(64));
        Assert.That(cache.Count, Is.LessThanOrEqualTo(64));
        Assert.That(cache.TryGet(Hash(9_999), 9_999, out int last) ? last : 0, Is.EqualTo(-9_999), "the latest insert is kept");
        int kept = Enumerable.Range(0, 10_000).Count(i => cache.TryGet(Hash(i), i, out _));
        Assert.That(kept, Is.EqualTo(cache.Count));
    }

    [Test]
    public void Add_ExistingKey_DoesNotTakeASecondSlot()
    {
        var cache = new BoundedCache<string, int>(2);
        cache.Add(5, "a", 1);
        cache.Add(5, "a", 1);
        cache.Add(5, "b", 2);
        Assert.That(cache.TryGet(5, "a", out _) && cache.TryGet(5, "b", out _), Is.True);
        Assert.That(cache.Count, Is.EqualTo(2));
    }

    [Test]
    public void ConcurrentAddsAndLookups_NeverReturnAnotherKeysValue()
    {
        var cache = new BoundedCache<int, int>(256);
        int wrong = 0;
        Parallel.For(0, 4, worker =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                int key = (i * 7 + worker) % 1_000;
                // Few distinct hashes, so sets are contended and collisions are frequent.
                ulong hash = (ulong)(key % 37) << 32;
                if (cache.TryGet(hash, key, out int value) && value != key * 3) Interlocked.Increment(ref wrong);
                else cache.Add(hash, key, key * 3);
            }
        });
        Assert.That(wrong, Is.Zero);
        Assert.That(cache.Count, Is.LessThanOrEqualTo(cache.Capacity));
    }

    private static ulong Hash(int i) => (ulong)i * 0x9E37_79B9_7F4A_7C15UL;

    [Test]
    public void Counters_ManyThreads_CountEveryLookupOnce()
    {
        var cache = new BoundedCache<int, int>(64);
        for (int k = 0; k < 32; k++) cache.Add((ulong)k << 32 | (uint)k, k, k);
        const int perThread = 64 * 300, threads = 4;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int i = 0; i < perThread; i++)
            {
                int key = (i + t) % 64; // keys below 32 are held (hits), the rest are not (misses)
                cache.TryGet((ulong)key << 32 | (uint)key, key, out _);
            }
        });
        Assert.That(cache.Hits + cache.Misses, Is.EqualTo((long)perThread * threads));
        Assert.That(cache.Hits, Is.EqualTo((long)perThread * threads / 2));
    }
}
