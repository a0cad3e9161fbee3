namespace Broker.Testing;

/// <summary>A fresh folder under the system temp folder, deleted with the test (shared by the test projects).</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "broker-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a leaked temp folder must not fail a test
        }
        catch (UnauthorizedAccessException)
        {
            // likewise
        }
    }
}
