using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Search;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace L2OEvolve.Cluster.Tests;

public class LockstepStepperTests
{
    private const int Islands = 5, Generations = 8;

    private static SearchState SingleProcess()
    {
        var ctx = SmallJob.Context(Islands, threads: 2);
        return Evolution.Run(Evolution.Initialize(ctx, []), ctx, new GenerationTermination(Generations));
    }

    private static async Task<InProcessTestCluster> Deploy(TestJobs.Home home, int silos)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddLockstepSearch(TimeSpan.FromMinutes(2));
            silo.Services.AddSingleton<IClusterJobs>(sp => new TestJobs(home, sp.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString()));
            // Declare a killed silo dead within seconds, so the test does not wait out production timeouts.
            silo.Services.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private static async Task<SearchState> RunJob(InProcessTestCluster cluster, TestJobs.Home home, string job)
    {
        var coordinator = cluster.Client.GetGrain<IJobCoordinatorGrain>(job);
        // Every silo's daemon pokes the coordinator like this; the poke also reactivates it after its silo died.
        while (!home.Result.Task.IsCompleted)
        {
            await coordinator.Ensure();
            await Task.WhenAny(home.Result.Task, Task.Delay(200));
        }
        return await home.Result.Task;
    }

    [Test]
    public async Task ThreeSilos_ReachTheSingleProcessState_ByteForByte()
    {
        var home = new TestJobs.Home { Islands = Islands, Generations = Generations };
        await using var cluster = await Deploy(home, 3);

        var clustered = await RunJob(cluster, home, "small").WaitAsync(TimeSpan.FromMinutes(3));

        Assert.That(SearchStateCodec.Serialize(clustered), Is.EqualTo(SearchStateCodec.Serialize(SingleProcess())),
            "the whole state (hall of fame, islands, generators) must match the single-process search");
        Assert.That(home.Placements["small"].Distinct().Count(), Is.EqualTo(3), "five islands on three silos use every silo");
    }

    [Test]
    public async Task SiloKilledMidRun_ItsIslandsMoveToTheSurvivors_AndTheStateIsUnchanged()
    {
        InProcessTestCluster? cluster = null;
        var killed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var home = new TestJobs.Home { Islands = Islands, Generations = Generations };
        home.AfterGeneration = s =>
        {
            if (s.Generation != 3 || killed.Task.IsCompleted) return;
            // Kill a silo that hosts islands but not the coordinator (an in-process silo cannot take a running loop down with it).
            var victim = cluster!.Silos.First(h => h.SiloAddress.ToString() != home.CoordinatorSilo);
            killed.TrySetResult(victim.SiloAddress.ToString());
            cluster.KillSiloAsync(victim).GetAwaiter().GetResult();
        };
        cluster = await Deploy(home, 3);
        await using var _ = cluster;

        var clustered = await RunJob(cluster, home, "small").WaitAsync(TimeSpan.FromMinutes(3));

        string victim = await killed.Task;
        Assert.That(home.Placed, Does.Contain(victim), "the killed silo ran islands before it died");
        Assert.That(home.Placements["small"], Does.Not.Contain(victim), "after the kill every island runs on a survivor");
        Assert.That(SearchStateCodec.Serialize(clustered), Is.EqualTo(SearchStateCodec.Serialize(SingleProcess())));
    }

    [Test]
    public async Task SiloJoiningMidRun_ReceivesIslands_AndTheStateIsUnchanged()
    {
        InProcessTestCluster? cluster = null;
        var joined = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var home = new TestJobs.Home { Islands = Islands, Generations = Generations };
        home.AfterGeneration = s =>
        {
            if (s.Generation != 3 || joined.Task.IsCompleted) return;
            var added = cluster!.StartAdditionalSiloAsync().GetAwaiter().GetResult();
            cluster.WaitForLivenessToStabilizeAsync().GetAwaiter().GetResult();
            joined.TrySetResult(added.SiloAddress.ToString());
        };
        cluster = await Deploy(home, 1);
        await using var _ = cluster;

        var clustered = await RunJob(cluster, home, "small").WaitAsync(TimeSpan.FromMinutes(3));

        string newcomer = await joined.Task;
        Assert.That(home.Placements["small"], Does.Contain(newcomer), "islands move to a silo that joined");
        Assert.That(home.Placements["small"].Distinct().Count(), Is.EqualTo(2));
        Assert.That(SearchStateCodec.Serialize(clustered), Is.EqualTo(SearchStateCodec.Serialize(SingleProcess())));
    }
}
