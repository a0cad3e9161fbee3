using System.Diagnostics;
using System.Text;
using Broker.Core.Errors;
using Broker.Core.Hub;
using Broker.Core.Query;
using Broker.Core.Registry;
using Broker.Core.Routing;
using Broker.Core.Twins;
using Broker.Storage.Faster;
using Broker.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Broker.Core.Tests.Query;

/// <summary>
/// Random and mutated queries (which back ends send to <c>POST /devices/query</c>, jobs and routes): each is either
/// answered or refused with IoT Hub's 400004; nothing else may escape, and nothing may hang.
/// </summary>
public sealed class QueryFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Seed = 0x51554552;
    private const int InputCount = 20_000;
    private static readonly TimeSpan SafetyBound = TimeSpan.FromSeconds(60);

    private static readonly string[] Corpus =
    [
        "SELECT * FROM devices",
        "SELECT TOP 3 deviceId, tags.location AS where FROM devices WHERE tags.floor >= 2 AND NOT (status = 'disabled')",
        "SELECT COUNT() AS n FROM devices.modules WHERE IS_DEFINED(properties.reported.fw) OR tags.x IN ['a', \"b\", 0x1F, -2.5e3]",
        "SELECT * FROM devices WHERE properties.desired.mode != 'eco' AND tags['oddkey'] NIN ('x') AND tags.n * 2 % 3 <> 1",
        "SELECT * FROM devices WHERE tags.s = 'it\\'s \\u00e9\\\\' AND tags.t = true AND tags.u = null AND tags.v = undefined",
    ];

    private static readonly string[] Fragments =
    [
        "'", "\"", "\\", "(", ")", "[", "]", ",", ".", "*", "=", "!=", "<>", "<=", ">=", "<", ">", "+", "-", "/", "%", " ", "0x",
        "1e", "AND", "OR", "NOT", "IN", "NIN", "SELECT", "FROM", "WHERE", "TOP", "AS", "COUNT()", "IS_DEFINED(", "GROUP BY",
        "devices", "devices.modules", "devices.jobs", "$", "\u0000", "é", "\uD800", "99999999999999999999", "1.5.6",
    ];

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(TestStores.Start);
    private FasterHubStore _store = null!;
    private TwinQueryService _queries = null!;

    public async Task InitializeAsync()
    {
        _store = TestStores.Open(TestStores.TwinSizedOptions(_directory.Path), _time);
        var identities = new IdentityRegistry(_store, _time);
        var twins = new TwinService(_store, identities, new ConnectionRegistry(identities, _time), _time, static (_, _) => 0);
        _queries = new TwinQueryService(identities, twins);
        await identities.CreateDeviceAsync(new Device { DeviceId = "d1" });
        await identities.CreateModuleAsync(new Module { DeviceId = "d1", ModuleId = "m1" });
        await twins.UpdateTwinAsync("d1", null, Encoding.UTF8.GetBytes("""{"tags":{"floor":3,"location":"US","x":"a","oddkey":"y"}}"""), null);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task QueriesAndRouteConditions_RandomAndMutated_AreAnsweredOrRefusedWith400004()
    {
        var watch = Stopwatch.StartNew();
        var (answered, refused) = await Task.Run(Run).WaitAsync(SafetyBound);
        output.WriteLine($"{InputCount} inputs: {answered} answered, {refused} refused with 400004, {watch.ElapsedMilliseconds} ms");
        Assert.True(answered >= InputCount / 200, $"only {answered} inputs were valid queries: the mutations are too destructive to reach evaluation");
        Assert.True(refused >= InputCount / 40, $"only {refused} inputs were refused: the mutations are too gentle");
    }

    private (int Answered, int Refused) Run()
    {
        var random = new Random(Seed);
        int answered = 0;
        int refused = 0;
        for (int i = 0; i < InputCount; i++)
        {
            string query = Mutate(random, Corpus[random.Next(Corpus.Length)]);
            // A whole query reads the registry (about 5 ms here): one input in ten runs it, every one is parsed below.
            if (i % 10 == 0)
            {
                try
                {
                    _ = _queries.Run(query, random.Next(1, 5), null);
                    answered++;
                }
                catch (IotHubException ex) when (ex.Code == IotHubErrorCode.ArgumentInvalid)
                {
                    refused++;
                }
                catch (Exception ex)
                {
                    throw new InvalidOperationException($"Query #{i} (seed {Seed}) escaped with {ex.GetType().Name}: {query}", ex);
                }
            }

            // The same text as a route's condition (its WHERE part, when it has one).
            int where = query.IndexOf("WHERE", StringComparison.OrdinalIgnoreCase);
            var routes = new RoutingOptions { Routes = [new RouteOptions { Name = "r", Condition = where < 0 ? query : query[(where + 5)..], Endpoints = ["e"] }] };
            try
            {
                _ = MessageRouter.Compile(routes);
            }
            catch (InvalidDataException)
            {
                // refused, naming the route: what startup reports
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"Route condition #{i} (seed {Seed}) escaped with {ex.GetType().Name}: {routes.Routes[0].Condition}", ex);
            }
        }

        return (answered, refused);
    }

    private static string Mutate(Random random, string query)
    {
        var text = new StringBuilder(query);
        int edits = random.Next(0, 4);
        for (int e = 0; e < edits && text.Length > 0; e++)
        {
            int at = random.Next(text.Length);
            switch (random.Next(5))
            {
                case 0:
                    text.Insert(at, Fragments[random.Next(Fragments.Length)]);
                    break;
                case 1:
                    text.Remove(at, Math.Min(text.Length - at, random.Next(1, 6)));
                    break;
                case 2:
                    text[at] = (char)random.Next(0x20, 0x7F);
                    break;
                case 3:
                    text.Length = at; // truncated
                    break;
                default:
                    text.Insert(at, text.ToString(at, Math.Min(text.Length - at, random.Next(1, 12)))); // a run repeated
                    break;
            }
        }

        return text.ToString();
    }
}
