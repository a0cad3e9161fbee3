using System.Text;

namespace Broker.Host.Security;

/// <summary>Writes the TLS material so that a crash never leaves half a file and keys are never readable by others.</summary>
internal static class SecretFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WorldReadable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Creates <paramref name="path"/> (and its parents); on Unix a new directory is for its owner only.</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="contents"/>: mode 600 when <paramref name="secret"/>, else 644.</summary>
    public static void Write(string path, string contents, bool secret)
    {
        var mode = secret ? OwnerOnly : WorldReadable;
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Created with its final mode, so a key is never readable by others, not even between create and chmod.
            options.UnixCreateMode = mode;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(contents));
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies only to a new file; a temporary left by a crash keeps its old mode.
            File.SetUnixFileMode(temporary, mode);
        }

        // The rename is atomic: a reader sees the old file or the whole new one.
        File.Move(temporary, path, overwrite: true);
    }
}
