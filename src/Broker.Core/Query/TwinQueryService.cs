using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Core.Errors;
using Broker.Core.Registry;
using Broker.Core.Twins;

namespace Broker.Core.Query;

/// <summary>One page of a query's results: a JSON array, and the token for the next page (null: no more).</summary>
public sealed record QueryPage(byte[] Json, string? Continuation, string ItemType);

/// <summary>
/// Runs IoT Hub twin queries (<c>POST /devices/query</c>) over the registry's device or module twins, ordered by
/// identity, a page at a time. The continuation token is the position in that order, so, as on IoT Hub, results are
/// eventually consistent: a twin that changes between pages may be seen in either state or be skipped by a filter.
/// </summary>
public sealed class TwinQueryService(IdentityRegistry registry, TwinService twins, Jobs.JobService? jobs = null)
{
    /// <summary>The page size when the caller gives none (<c>x-ms-max-item-count</c>).</summary>
    public const int DefaultPageSize = 100;

    /// <summary>The largest page.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Runs <paramref name="query"/> from <paramref name="continuation"/> (null: the start); 400004 for a bad query, page size or token.</summary>
    public QueryPage Run(string? query, int? pageSize, string? continuation)
    {
        var parsed = QueryParser.Parse(query);
        int size = pageSize ?? DefaultPageSize;
        if (size is < 1 or > MaxPageSize)
        {
            throw IotHubErrors.ArgumentInvalid($"The page size must be between 1 and {MaxPageSize}.");
        }

        int skip = ParseContinuation(continuation);
        var matches = new List<JsonElement>();
        var documents = new List<JsonDocument>();
        int count = 0;
        try
        {
            foreach (var twin in Twins(parsed.Source))
            {
                var document = JsonDocument.Parse(twin);
                if (parsed.Where is not null && !parsed.Where.Evaluate(document.RootElement).IsTrue)
                {
                    document.Dispose();
                    continue;
                }

                count++;
                if (parsed.IsCount || count <= skip || matches.Count > size)
                {
                    document.Dispose();
                }
                else
                {
                    documents.Add(document);
                    matches.Add(document.RootElement);
                }

                if (parsed.Top is { } top && count >= top)
                {
                    break;
                }

                if (!parsed.IsCount && matches.Count > size)
                {
                    break; // one more than a page: there is a next page
                }
            }

            bool more = !parsed.IsCount && matches.Count > size;
            if (more)
            {
                matches.RemoveAt(matches.Count - 1);
            }

            var json = Write(parsed, matches, count);
            return new QueryPage(json, more ? FormatContinuation(skip + size) : null, parsed.Source == QuerySource.Jobs ? "DeviceJob" : parsed.SelectsAll ? "Twin" : "Raw");
        }
        finally
        {
            foreach (var document in documents)
            {
                document.Dispose();
            }
        }
    }

    private IEnumerable<byte[]> Twins(QuerySource source)
    {
        if (source == QuerySource.Jobs)
        {
            foreach (var row in (jobs ?? throw IotHubErrors.ArgumentInvalid("Invalid query: devices.jobs is not available here.")).DeviceJobRows())
            {
                yield return row;
            }

            yield break;
        }

        foreach (var device in registry.ListAllDevices())
        {
            if (source == QuerySource.Devices)
            {
                yield return twins.GetTwin(device.DeviceId, null);
                continue;
            }

            foreach (var module in registry.ListModules(device.DeviceId))
            {
                yield return twins.GetTwin(device.DeviceId, module.ModuleId);
            }
        }
    }

    private static byte[] Write(TwinQuery query, List<JsonElement> matches, int count)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            if (query.IsCount)
            {
                writer.WriteStartObject();
                writer.WriteNumber(query.Items![0].Name, count);
                writer.WriteEndObject();
            }
            else
            {
                foreach (var match in matches)
                {
                    if (query.SelectsAll)
                    {
                        match.WriteTo(writer);
                        continue;
                    }

                    writer.WriteStartObject();
                    foreach (var item in query.Items!)
                    {
                        var value = item.Path!.Evaluate(match);
                        if (value.Kind != QueryValueKind.Undefined)
                        {
                            writer.WritePropertyName(item.Name);
                            value.WriteTo(writer);
                        }
                    }

                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string FormatContinuation(int position)
        => Convert.ToBase64String(Encoding.ASCII.GetBytes("offset:" + position.ToString(CultureInfo.InvariantCulture)));

    private static int ParseContinuation(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        var bytes = new byte[token.Length];
        if (Base64.DecodeFromUtf8(Encoding.ASCII.GetBytes(token), bytes, out _, out int written) == OperationStatus.Done)
        {
            string text = Encoding.ASCII.GetString(bytes, 0, written);
            if (text.StartsWith("offset:", StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out int position))
            {
                return position;
            }
        }

        throw IotHubErrors.ArgumentInvalid("The continuation token is not one this hub issued.");
    }
}
