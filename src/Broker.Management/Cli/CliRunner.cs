using System.CommandLine;
using System.Text.Json;
using Grpc.Core;

namespace Broker.Management.Cli;

/// <summary>Runs a client command: resolves the server and credentials, and turns every failure into one line and exit code 1.</summary>
internal static class CliRunner
{
    public const int Success = 0;
    public const int Failure = 1;

    public static async Task<int> RunAsync(
        ParseResult parse,
        ClientOptions options,
        Func<ManagementClient, TextWriter, CancellationToken, Task> command,
        CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        Uri? server = null;
        try
        {
            server = options.ResolveServer(parse);
            using var client = ManagementClient.Create(server, options.ResolveConnectionString(parse), TimeProvider.System);
            await command(client, output, cancellationToken).ConfigureAwait(false);
            return Success;
        }
        catch (RpcException e)
        {
            await error.WriteLineAsync(Describe(e, server)).ConfigureAwait(false);
            return Failure;
        }
        catch (CliException e)
        {
            await error.WriteLineAsync(OneLine("error: " + e.Message)).ConfigureAwait(false);
            return Failure;
        }
    }

    /// <summary>
    /// <c>error: DeviceNotFound (404001): Device d1 not registered</c> when the broker answered with an IoT Hub
    /// error; otherwise the gRPC status, which for a broker that is not running says so.
    /// </summary>
    internal static string Describe(RpcException e, Uri? server)
    {
        var name = e.Trailers.GetValue(ManagementMetadata.ErrorCode);
        var detail = TryParseDetail(e.Status.Detail);
        if (!string.IsNullOrEmpty(name) && detail is { ErrorCode: > 0 })
        {
            return OneLine($"error: {name} ({detail.ErrorCode}): {detail.Message}");
        }

        return e.StatusCode == StatusCode.Unavailable
            ? OneLine($"error: cannot reach the broker at {server}: {e.Status.DebugException?.GetBaseException().Message ?? e.Status.Detail}")
            : OneLine($"error: {e.StatusCode}: {e.Status.Detail}");
    }

    private static ManagementErrorDetail? TryParseDetail(string detail)
    {
        if (!detail.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(detail, ManagementJsonContext.Default.ManagementErrorDetail);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
