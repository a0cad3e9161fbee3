using System.Diagnostics.CodeAnalysis;
using Broker.Core.Security;

namespace Broker.Management;

/// <summary>
/// The <c>iothubowner</c> connection string the broker leaves in its data folder so that the CLI on the same
/// machine works without flags. The broker keeps the store open, so the CLI cannot read the policies from it;
/// the file is readable by the broker's user only (mode 600), like an SSH key.
/// </summary>
public static class LocalCredentials
{
    /// <summary>The file's name inside the data folder.</summary>
    public const string FileName = "iothubowner.connectionstring";

    /// <summary>The policy whose primary key the file holds.</summary>
    public const string PolicyName = "iothubowner";

    /// <summary>
    /// Writes <c>HostName={hostName};SharedAccessKeyName=iothubowner;SharedAccessKey={primary key}</c> to
    /// <c>{dataDirectory}/iothubowner.connectionstring</c>, replacing any earlier one, and returns its path.
    /// </summary>
    public static string Write(string dataDirectory, string hostName, SharedAccessPolicies policies)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        ArgumentNullException.ThrowIfNull(policies);
        var policy = policies.Find(PolicyName)
            ?? throw new InvalidOperationException($"The hub has no '{PolicyName}' policy to write local credentials for.");

        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Created private, so the key is never readable by others, not even between create and chmod.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(temporary, System.Text.Encoding.UTF8, options))
        {
            writer.Write(ConnectionStrings.ForPolicy(hostName, policy.KeyName, policy.PrimaryKey));
            writer.Write('\n');
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to a new file; a stale temporary from a crash keeps its old mode.
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // Rename over the old file so a reader never sees a half-written one.
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    /// <summary>Reads the connection string <see cref="Write"/> left in <paramref name="dataDirectory"/>, if there is one.</summary>
    public static bool TryRead(string dataDirectory, [NotNullWhen(true)] out string? connectionString)
    {
        connectionString = null;
        if (string.IsNullOrWhiteSpace(dataDirectory))
        {
            return false;
        }

        try
        {
            var text = File.ReadAllText(Path.Combine(dataDirectory, FileName)).Trim();
            if (text.Length == 0)
            {
                return false;
            }

            connectionString = text;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Absent or not ours to read: the caller falls back to asking for a connection string.
            return false;
        }
    }
}
