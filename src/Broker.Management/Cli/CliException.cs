namespace Broker.Management.Cli;

/// <summary>A local reason a command cannot run (bad flags, no credentials); printed as <c>error: {message}</c>.</summary>
internal sealed class CliException(string message) : Exception(message);
