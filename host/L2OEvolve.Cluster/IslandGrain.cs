using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Search;
using Orleans;
using Orleans.Runtime;

namespace L2OEvolve.Cluster;

/// <summary>
/// An island's share of a generation, run where the island lives: breed with the island's own generator and score
/// (<see cref="Breed"/>), then tune the children the coordinator chose (<see cref="Tune"/>). Both are pure functions of
/// the request, so a retried call (after a silo died) gives the same reply on any silo.
/// </summary>
[IslandPlacement]
public sealed class IslandGrain(IClusterJobs jobs, ILocalSiloDetails silo, IClusterMembershipService membership) : Grain, IIslandGrain
{
    public async Task<byte[]> Breed(byte[] request)
    {
        var r = Wire.Read<BreedRequest>(request);
        ClusterSchema.Check(r.SchemaVersion);
        var ctx = jobs.Context(IslandPlacement.JobOf(this.GetPrimaryKeyString()));
        var frequency = r.FrequencyKeys.Zip(r.FrequencyValues).ToDictionary(p => p.First, p => p.Second);
        var plan = new Evolution.GenerationPlan(r.Generation, r.PerIsland, frequency, r.ScoreSeed, r.TuneSeed);
        var island = SearchStateCodec.FromDto(r.Island);
        // The work runs off the grain's scheduler: a rollout fitness can take minutes.
        var reply = await Task.Run(() =>
        {
            var brood = Evolution.BreedIsland(island, plan, ctx);
            var trees = brood.Offspring.Select(o => o.Tree).ToArray();
            var scores = Evolution.Score(ctx, trees, plan.ScoreSeed, plan.Generation, CancellationToken.None);
            return new BreedReply
            {
                Trees = [.. trees.Select(ExprEncoding.Encode)],
                Tune = [.. brood.Offspring.Select(o => o.Tune)],
                Scores = scores,
                Rng = SearchStateCodec.Words(brood.Rng),
                Silo = silo.SiloAddress.ToString(),
            };
        });
        MoveIfMisplaced();
        return Wire.Write(reply);
    }

    public async Task<byte[]> Tune(byte[] request)
    {
        var r = Wire.Read<TuneRequest>(request);
        ClusterSchema.Check(r.SchemaVersion);
        var ctx = jobs.Context(IslandPlacement.JobOf(this.GetPrimaryKeyString()));
        var reply = await Task.Run(() =>
        {
            var trees = r.Trees.Select(ExprEncoding.Decode).ToArray();
            var scores = r.Scores;
            Evolution.TuneChosen(ctx, r.Chosen, trees, scores, r.Seed, r.Generation, CancellationToken.None);
            return new TuneReply { Trees = [.. trees.Select(ExprEncoding.Encode)], Scores = scores };
        });
        return Wire.Write(reply);
    }

    // Islands hold no state, so moving one costs one activation: when silos join or leave, an island that is no longer
    // on its home silo deactivates after this call and is placed anew at the next generation.
    private void MoveIfMisplaced()
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress);
        var home = IslandPlacement.Home(IslandPlacement.IndexOf(this.GetPrimaryKeyString()), active);
        if (home is not null && !home.Equals(silo.SiloAddress)) DeactivateOnIdle();
    }
}
