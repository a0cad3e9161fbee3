namespace Broker.Management.Tests;

/// <summary>What a CLI run printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string[] OutputLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The value of a <c>name  value</c> row of a vertical table.</summary>
    public string Field(string name)
    {
        foreach (var line in OutputLines)
        {
            var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length > 0 && parts[0] == name)
            {
                return parts.Length > 1 ? parts[1] : "";
            }
        }

        throw new Xunit.Sdk.XunitException($"No row '{name}' in:\n{Output}");
    }
}
