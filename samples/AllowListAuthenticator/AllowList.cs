namespace AllowListAuthenticator;

/// <summary>The identities on the list and the SHA-256 thumbprints of the certificates each may present.</summary>
public sealed class AllowList
{
    private readonly Dictionary<string, List<byte[]>> _thumbprints;

    private AllowList(Dictionary<string, List<byte[]>> thumbprints)
    {
        _thumbprints = thumbprints;
    }

    /// <summary>Reads a list: one <c>identity thumbprint</c> pair per line, <c>#</c> starts a comment.</summary>
    public static AllowList Load(string path)
    {
        var thumbprints = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal);
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Split('#', 2)[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[1].Length != 64)
            {
                throw new InvalidDataException($"{path}:{number}: expected 'deviceId[/moduleId] sha256-thumbprint-hex'.");
            }

            byte[] thumbprint;
            try
            {
                thumbprint = Convert.FromHexString(parts[1]);
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"{path}:{number}: '{parts[1]}' is not a hex SHA-256 thumbprint.");
            }

            if (!thumbprints.TryGetValue(parts[0], out var list))
            {
                thumbprints[parts[0]] = list = [];
            }

            list.Add(thumbprint);
        }

        return new AllowList(thumbprints);
    }

    /// <summary>The thumbprints listed for an identity (<c>deviceId</c> or <c>deviceId/moduleId</c>).</summary>
    public bool TryGetThumbprints(string identity, out IReadOnlyList<byte[]> thumbprints)
    {
        bool found = _thumbprints.TryGetValue(identity, out var list);
        thumbprints = list ?? [];
        return found;
    }
}
