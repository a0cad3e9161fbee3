using System.CommandLine;

namespace Broker.Management.Cli;

/// <summary>
/// The options every client command takes, declared once per command group and inherited by its subcommands
/// (one instance per group because a symbol belongs to one parent).
/// </summary>
internal sealed class ClientOptions
{
    /// <summary>The management endpoint the broker listens on by default (loopback, h2c).</summary>
    public const string DefaultServer = "http://127.0.0.1:8081";

    /// <summary>The environment variable that supplies a policy connection string when no flag does.</summary>
    public const string ConnectionStringVariable = "BROKER_CONNECTION_STRING";

    public Option<string> Server { get; } = new("--server")
    {
        Description = "The broker's management endpoint.",
        DefaultValueFactory = _ => DefaultServer,
        Recursive = true,
    };

    public Option<string> ConnectionString { get; } = new("--connection-string")
    {
        Description = $"A policy connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…); default ${ConnectionStringVariable}, else the iothubowner credentials the broker wrote to --data.",
        Recursive = true,
    };

    public Option<string> Data { get; } = new("--data")
    {
        Description = "The broker's data folder, where it leaves the local iothubowner connection string.",
        DefaultValueFactory = _ => "./data",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print JSON instead of a table.",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Add(Server);
        command.Add(ConnectionString);
        command.Add(Data);
        command.Add(Json);
    }

    /// <summary>The server URL, which must be absolute http or https.</summary>
    public Uri ResolveServer(ParseResult parse)
    {
        var value = parse.GetValue(Server) ?? DefaultServer;
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new CliException($"--server '{value}' is not an http:// or https:// URL.");
    }

    /// <summary>The flag, else the environment, else the broker's local credentials file.</summary>
    public string ResolveConnectionString(ParseResult parse)
    {
        var value = parse.GetValue(ConnectionString);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        value = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        var data = parse.GetValue(Data) ?? "./data";
        return LocalCredentials.TryRead(data, out var local)
            ? local
            : throw new CliException(
                $"no credentials: pass --connection-string, set {ConnectionStringVariable}, or point --data at the folder of a running broker (no {LocalCredentials.FileName} in '{data}').");
    }
}
