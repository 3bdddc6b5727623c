using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace L2OEvolve.Cluster.Tests;

public class MembershipStoreTests
{
    /// <summary>Remembers every message logged to it.</summary>
    private sealed class Recorder : ILogger
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add((logLevel, formatter(state, exception)));
        }
    }

    private static int ClosedPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port; // closed again when the listener is disposed
    }

    [Test]
    public void ClaimSchema_StoreUnreachable_EveryFailedAttemptIsLoggedWithItsBackOff_ThenTheErrorReachesTheCaller()
    {
        var config = new ClusterConfig("lab", "l2oevolve", $"127.0.0.1:{ClosedPort()},connectTimeout=500", 11111, 30000, IPAddress.Loopback);
        var log = new Recorder();
        var retry = MembershipStore.Retry(log, attempts: 3, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));

        Assert.ThrowsAsync<RedisConnectionException>(() => MembershipStore.ClaimSchemaAsync(config, TimeSpan.FromSeconds(60), retry));

        Assert.That(log.Lines, Has.Count.EqualTo(2));
        Assert.That(log.Lines[0].Message, Does.StartWith("membership store unreachable (attempt 1 of 3); retrying in 0.1 s"));
        Assert.That(log.Lines[1].Message, Does.StartWith("membership store unreachable (attempt 2 of 3); retrying in 0.2 s"));
        Assert.That(log.Lines.Select(l => l.Level), Is.All.EqualTo(LogLevel.Warning));
    }
}
