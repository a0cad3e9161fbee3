using System.Reflection;
using System.Runtime.InteropServices;

namespace Broker.Plugins.Loading;

/// <summary>
/// Which assemblies a plug-in takes from the host instead of its own folder: the contract, the
/// <c>Microsoft.Extensions.*</c> abstractions its signatures use, and the shared framework. Types that cross
/// the boundary (IBrokerPlugin, IServiceCollection, IConfiguration, ILogger…) must come from one assembly, or
/// the host's <c>IServiceCollection</c> would not be the plug-in's.
/// </summary>
internal static class SharedAssemblies
{
    public const string ContractAssemblyName = "Broker.Plugins.Abstractions";

    private static readonly Lazy<HashSet<string>> Framework = new(ReadFramework);
    private static readonly Lazy<HashSet<string>> HostShipped = new(ReadHostShipped);

    /// <summary>Assemblies the host provides when it has them; a plug-in's copies are never loaded then.</summary>
    public static bool IsHostPreferred(string name) =>
        name == ContractAssemblyName
        || (name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && name.EndsWith(".Abstractions", StringComparison.Ordinal))
        // IConfiguration's change tokens and IOptions<T> appear in the abstractions' signatures and in the host's container.
        || name is "Microsoft.Extensions.Primitives" or "Microsoft.Extensions.Options";

    /// <summary>Whether the assembly belongs to a shared framework the host runs on (Microsoft.NETCore.App, Microsoft.AspNetCore.App…).</summary>
    public static bool IsFramework(string name) => Framework.Value.Contains(name);

    /// <summary>
    /// Whether the host ships the assembly: it is on the host's trusted platform assemblies list, which holds the
    /// shared frameworks and every assembly of the host's own <c>.deps.json</c>.
    /// </summary>
    public static bool IsHostShipped(string name) => HostShipped.Value.Contains(name);

    private static HashSet<string> ReadHostShipped()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string trusted = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
        foreach (string path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            names.Add(Path.GetFileNameWithoutExtension(path));
        }

        return names;
    }

    private static HashSet<string> ReadFramework()
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string runtimeDirectory = Path.TrimEndingDirectorySeparator(RuntimeEnvironment.GetRuntimeDirectory());
        var frameworkDirectory = Directory.GetParent(runtimeDirectory);
        // Framework-dependent: .../shared/Microsoft.NETCore.App/<version>/, with the other frameworks beside it.
        bool frameworkDependent = frameworkDirectory?.Name == "Microsoft.NETCore.App" && frameworkDirectory.Parent is not null;
        string sharedRoot = frameworkDependent ? frameworkDirectory!.Parent!.FullName + Path.DirectorySeparatorChar : runtimeDirectory;
        string trusted = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
        foreach (string path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (frameworkDependent ? path.StartsWith(sharedRoot, StringComparison.Ordinal) : LooksLikeFramework(name))
            {
                names.Add(name);
            }
        }

        return names;
    }

    // Self-contained hosts put the framework beside their own assemblies; tell them apart by name.
    private static bool LooksLikeFramework(string name) =>
        name.StartsWith("System.", StringComparison.Ordinal)
        || name.StartsWith("Microsoft.Win32.", StringComparison.Ordinal)
        || name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
        || name is "System" or "mscorlib" or "netstandard" or "WindowsBase" or "Microsoft.CSharp" or "Microsoft.VisualBasic" or "Microsoft.VisualBasic.Core";

    /// <summary>The contract version the host provides: Major.Minor of the contract assembly it loaded.</summary>
    public static Version ContractVersion { get; } = Normalize(typeof(IBrokerPlugin).Assembly.GetName().Version!);

    /// <summary>Major.Minor only: build and revision never change compatibility.</summary>
    public static Version Normalize(Version version) => new(version.Major, Math.Max(version.Minor, 0));

    /// <summary>The contract version an assembly was compiled against, or null if it does not reference the contract.</summary>
    public static Version? ReferencedContractVersion(Assembly assembly)
    {
        foreach (var reference in assembly.GetReferencedAssemblies())
        {
            if (reference.Name == ContractAssemblyName && reference.Version is not null)
            {
                return Normalize(reference.Version);
            }
        }

        return null;
    }
}
