using System.Collections.Immutable;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Search;

/// <summary>The migration stage: moves members between islands (and from the hall of fame). Explicit RNG; returns new islands.</summary>
public interface IMigration
{
    /// <summary>Islands after migration at the end of <paramref name="generation"/>; <paramref name="nextBirth"/> stamps the migrants.</summary>
    ImmutableArray<Island> Migrate(ref Rng rng, ImmutableArray<Island> islands, HallOfFame hallOfFame, int generation, ref long nextBirth);
}

/// <summary>
/// SR.jl's migration: every <c>Interval</c> generations each island has a <c>Fraction</c> of random slots overwritten by
/// random members of the other islands, and a <c>HallOfFameFraction</c> by random hall-of-fame members. Migrants are
/// re-stamped as newborn so that regularised evolution does not retire them at once.
/// </summary>
public sealed record RandomMigration(MigrationSettings Settings) : IMigration
{
    /// <inheritdoc/>
    public ImmutableArray<Island> Migrate(ref Rng rng, ImmutableArray<Island> islands, HallOfFame hallOfFame, int generation, ref long nextBirth)
    {
        if (Settings.Interval <= 0 || (generation + 1) % Settings.Interval != 0) return islands;
        var result = islands.ToBuilder();
        for (int i = 0; i < islands.Length; i++)
        {
            var members = islands[i].Members.ToBuilder();
            int fromOthers = islands.Length > 1 ? (int)Math.Round(Settings.Fraction * members.Count) : 0;
            int fromHof = hallOfFame.Members.IsEmpty ? 0 : (int)Math.Round(Settings.HallOfFameFraction * members.Count);
            for (int k = 0; k < fromOthers; k++)
            {
                int source = rng.NextInt(islands.Length - 1);
                if (source >= i) source++;
                var donor = islands[source].Members[rng.NextInt(islands[source].Members.Length)];
                members[rng.NextInt(members.Count)] = donor with { Birth = nextBirth++ };
            }
            for (int k = 0; k < fromHof; k++)
            {
                var donor = hallOfFame.Members[rng.NextInt(hallOfFame.Members.Length)];
                members[rng.NextInt(members.Count)] = donor with { Birth = nextBirth++ };
            }
            result[i] = islands[i] with { Members = members.MoveToImmutable() };
        }
        return result.MoveToImmutable();
    }
}
