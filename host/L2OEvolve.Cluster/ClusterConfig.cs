using System.Net;
using System.Text.Json;

namespace L2OEvolve.Cluster;

/// <summary>
/// A silo's cluster file (<c>daemon --cluster FILE</c>): which cluster, the membership store, and this silo's ports.
/// The Redis connection string may stay out of the file: <see cref="RedisVariable"/> in the environment wins over it.
/// </summary>
/// <param name="ClusterId">The cluster (silos with the same cluster and service ids and store form one cluster).</param>
/// <param name="ServiceId">The service; stays the same across redeployments.</param>
/// <param name="Redis">StackExchange.Redis connection string of the membership store.</param>
/// <param name="SiloPort">Silo-to-silo port.</param>
/// <param name="GatewayPort">Client port.</param>
/// <param name="AdvertisedAddress">The address other silos reach this one on.</param>
public sealed record ClusterConfig(string ClusterId, string ServiceId, string Redis, int SiloPort, int GatewayPort, IPAddress AdvertisedAddress)
{
    /// <summary>The environment variable that holds (and overrides) the Redis connection string.</summary>
    public const string RedisVariable = "L2OEVOLVE_REDIS";

    /// <summary>
    /// Reads <paramref name="path"/>: a JSON object with <c>clusterId</c> (required), <c>serviceId</c> (default l2oevolve),
    /// <c>redis</c> (unless <see cref="RedisVariable"/> is set), <c>siloPort</c> (11111), <c>gatewayPort</c> (30000),
    /// <c>advertisedAddress</c> (127.0.0.1). Throws <see cref="ClusterConfigException"/> naming the file, field and fault.
    /// </summary>
    public static ClusterConfig Load(string path, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (FileNotFoundException) { throw new ClusterConfigException($"{path}: no such file"); }
        catch (DirectoryNotFoundException) { throw new ClusterConfigException($"{path}: no such file"); }
        catch (JsonException e) { throw new ClusterConfigException($"{path}: line {e.LineNumber + 1}: not valid JSON ({e.Message.Split('.')[0]})"); }
        if (root.ValueKind != JsonValueKind.Object) throw new ClusterConfigException($"{path}: expected a JSON object");

        var known = new[] { "clusterId", "serviceId", "redis", "siloPort", "gatewayPort", "advertisedAddress" };
        foreach (var p in root.EnumerateObject())
            if (!known.Contains(p.Name, StringComparer.Ordinal))
                throw new ClusterConfigException($"{path}: field '{p.Name}': unknown (known: {string.Join(", ", known)})");

        string Text(string field, string? fallback)
        {
            if (!root.TryGetProperty(field, out var v)) return fallback ?? throw new ClusterConfigException($"{path}: field '{field}': missing");
            if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
                throw new ClusterConfigException($"{path}: field '{field}': expected a non-empty string");
            return v.GetString()!;
        }
        int Port(string field, int fallback)
        {
            if (!root.TryGetProperty(field, out var v)) return fallback;
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int port) || port is < 1 or > 65535)
                throw new ClusterConfigException($"{path}: field '{field}': expected a port number in 1..65535");
            return port;
        }

        string clusterId = Text("clusterId", null);
        string serviceId = Text("serviceId", "l2oevolve");
        string redis = environment(RedisVariable) is { Length: > 0 } fromEnv ? fromEnv
            : root.TryGetProperty("redis", out _) ? Text("redis", null)
            : throw new ClusterConfigException($"{path}: field 'redis': missing (or set {RedisVariable})");
        int siloPort = Port("siloPort", 11111), gatewayPort = Port("gatewayPort", 30000);
        if (siloPort == gatewayPort) throw new ClusterConfigException($"{path}: field 'gatewayPort': equals siloPort ({siloPort})");
        string address = Text("advertisedAddress", "127.0.0.1");
        if (!IPAddress.TryParse(address, out var ip)) throw new ClusterConfigException($"{path}: field 'advertisedAddress': '{address}' is not an IP address");
        return new ClusterConfig(clusterId, serviceId, redis, siloPort, gatewayPort, ip);
    }
}

/// <summary>A cluster file that cannot be used; the message names the file, the field and the fault.</summary>
public sealed class ClusterConfigException(string message) : Exception(message);
