using System.Diagnostics;
using System.Reflection;

namespace Broker.Plugins.Tests.Support;

/// <summary>
/// Builds the test plug-ins once per test run, in a temp folder, the way plug-ins outside the repository are
/// built: the contract is packed into a local feed and the samples (samples/AllowListAuthenticator, samples/WebhookSink) restore
/// it from there as a NuGet package; the plug-ins under TestPlugins compile against the contract assembly of
/// this test run. Restores go to a packages folder of the run's own, so version 1.0.0 test builds of the
/// contract never reach the machine's NuGet cache.
/// </summary>
public sealed class PluginBuildFixture : IAsyncLifetime
{
    /// <summary>The projects built, by folder name under the work directory's <c>src</c>.</summary>
    public const string Sample = "AllowListAuthenticator";
    public const string WebhookSample = "WebhookSink";
    public const string JsonSinkV12 = "JsonSinkV12";
    public const string JsonSinkV13 = "JsonSinkV13";
    public const string Lifecycle = "Lifecycle";

    private static readonly string[] Samples = [Sample, WebhookSample];
    private static readonly string[] Projects = [.. Samples, JsonSinkV12, JsonSinkV13, Lifecycle];
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(2);
    // The first run on a machine downloads Newtonsoft.Json and the Microsoft.Extensions abstractions.
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private int _roots;

    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "broker-plugins-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The contract package the sample was built against.</summary>
    public string PackagePath { get; private set; } = "";

    /// <summary>How long packing and building took, for the test log.</summary>
    public TimeSpan BuildTime { get; private set; }

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        string repository = Metadata("RepositoryRoot");
        string configuration = Metadata("Configuration");
        string src = Path.Combine(WorkDirectory, "src");
        string feed = Path.Combine(WorkDirectory, "feed");
        string packages = Path.Combine(WorkDirectory, "packages");
        Directory.CreateDirectory(src);

        // The contract as built for this run (the test project references it), packed without rebuilding.
        await DotNetCli.RunAsync(repository, PackTimeout, "pack",
            Path.Combine(repository, "src", "Plugins", "Broker.Plugins.Abstractions", "Broker.Plugins.Abstractions.csproj"),
            "--no-build", "-c", configuration, "-o", feed, "-nologo", "-v:quiet");
        PackagePath = Path.Combine(feed, "Broker.Plugins.Abstractions.1.0.0.nupkg");

        foreach (string sample in Samples)
        {
            CopyDirectory(Path.Combine(repository, "samples", sample), Path.Combine(src, sample));
            // The sample's own nuget.config points at the repository's artifacts; this run's feed replaces it.
            File.Delete(Path.Combine(src, sample, "nuget.config"));
        }

        CopyDirectory(Path.Combine(repository, "tests", "Broker.Plugins.Tests", "TestPlugins"), src);
        File.WriteAllText(Path.Combine(src, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <!-- This test run's contract package, plus the machine's default sources. -->
              <packageSources>
                <add key="broker-contract-under-test" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(src, "plugins.slnx"),
            "<Solution>\n" + string.Concat(Projects.Select(p => $"  <Project Path=\"{p}/{p}.csproj\" />\n")) + "</Solution>\n");

        // One build for all: MSBuild builds the projects side by side on the available cores.
        await DotNetCli.RunAsync(src, BuildTimeout, "build", "plugins.slnx", "-c", "Release",
            $"-p:RestorePackagesPath={packages}",
            $"-p:BrokerContractAssembly={Path.Combine(AppContext.BaseDirectory, "Broker.Plugins.Abstractions.dll")}",
            "--disable-build-servers", "-nologo", "-v:quiet");
        BuildTime = watch.Elapsed;
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Task.CompletedTask;
    }

    /// <summary>The build output of a test plug-in project: what goes into its plug-in folder.</summary>
    public string OutputOf(string project) => Path.Combine(WorkDirectory, "src", project, "bin", "Release", "net10.0");

    /// <summary>A new, empty plug-ins directory for one test.</summary>
    public PluginsDirectory NewPluginsDirectory()
    {
        string path = Path.Combine(WorkDirectory, "plugins", Interlocked.Increment(ref _roots).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(path);
        return new PluginsDirectory(this, path);
    }

    internal static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }

        foreach (string directory in Directory.EnumerateDirectories(from))
        {
            string name = Path.GetFileName(directory);
            if (name is not ("bin" or "obj"))
            {
                CopyDirectory(directory, Path.Combine(to, name));
            }
        }
    }

    internal static string Metadata(string key) =>
        typeof(PluginBuildFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The test assembly has no {key} metadata.");
}
