namespace Broker.Core.Storage;

/// <summary>A storage failure that names the file or folder it concerns.</summary>
public sealed class StorageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageException(string message, string path, Exception? innerException = null)
        : base($"{message} ({path})", innerException)
    {
        Path = path;
    }

    /// <summary>The file or folder concerned.</summary>
    public string Path { get; }
}
