using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;

namespace Broker.Plugins.Loading;

/// <summary>Reads and validates <c>plugin.json</c>; every problem becomes one sentence for <see cref="PluginLoadException"/>.</summary>
internal static class PluginManifestReader
{
    public static bool TryRead(string path, [NotNullWhen(true)] out PluginManifest? manifest, [NotNullWhen(false)] out string? error)
    {
        manifest = null;
        PluginManifestJson? json;
        try
        {
            using var stream = File.OpenRead(path);
            json = JsonSerializer.Deserialize(stream, PluginManifestJsonContext.Default.PluginManifestJson);
        }
        catch (JsonException ex)
        {
            error = $"{PluginManifest.FileName} is not valid: {ex.Message}";
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"{PluginManifest.FileName} could not be read: {ex.Message}";
            return false;
        }

        if (json is null)
        {
            error = $"{PluginManifest.FileName} is empty (null).";
            return false;
        }

        error = Validate(json, out manifest);
        return error is null;
    }

    /// <returns>Null when the manifest is valid, otherwise what is wrong with it.</returns>
    private static string? Validate(PluginManifestJson json, out PluginManifest? manifest)
    {
        manifest = null;
        if (string.IsNullOrWhiteSpace(json.EntryType))
        {
            return $"{PluginManifest.FileName} has no \"entryType\" (the plug-in's IBrokerPlugin type, \"Namespace.Type, Assembly\" or \"Assembly!Namespace.Type\").";
        }

        if (!TrySplitEntryType(json.EntryType.Trim(), out string typeName, out string? assemblyName))
        {
            return $"\"entryType\" '{json.EntryType}' is not a type name (\"Namespace.Type, Assembly\" or \"Assembly!Namespace.Type\").";
        }

        string? assemblyFile = json.Assembly?.Trim();
        if (string.IsNullOrEmpty(assemblyFile))
        {
            if (assemblyName is null)
            {
                return $"{PluginManifest.FileName} names no assembly: give \"assembly\" or an assembly-qualified \"entryType\".";
            }

            assemblyFile = assemblyName + ".dll";
        }
        else if (assemblyFile != Path.GetFileName(assemblyFile) || assemblyFile is "." or ".." || assemblyFile.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            // The assembly must be the plug-in's own: a path could point anywhere on the machine.
            return $"\"assembly\" '{assemblyFile}' must be a file name in the plug-in's folder, not a path.";
        }
        else if (assemblyName is not null && !string.Equals(Path.GetFileNameWithoutExtension(assemblyFile), assemblyName, StringComparison.OrdinalIgnoreCase))
        {
            return $"\"entryType\" names assembly '{assemblyName}' but \"assembly\" is '{assemblyFile}'.";
        }

        if (string.IsNullOrWhiteSpace(json.MinimumContractVersion))
        {
            return $"{PluginManifest.FileName} has no \"minimumContractVersion\" (the Broker.Plugins.Abstractions version the plug-in was built against, such as \"1.0\").";
        }

        if (!Version.TryParse(json.MinimumContractVersion, out var minimum))
        {
            return $"\"minimumContractVersion\" '{json.MinimumContractVersion}' is not a version such as \"1.0\".";
        }

        manifest = new PluginManifest
        {
            EntryType = typeName,
            AssemblyFileName = assemblyFile,
            MinimumContractVersion = minimum,
            Collectible = json.Collectible ?? false,
            ShareHostAssemblies = json.ShareHostAssemblies ?? false,
        };
        return null;
    }

    private static bool TrySplitEntryType(string entryType, out string typeName, out string? assemblyName)
    {
        typeName = entryType;
        assemblyName = null;
        if (entryType.Contains('[', StringComparison.Ordinal))
        {
            return false; // generic types cannot be created without arguments
        }

        int bang = entryType.IndexOf('!', StringComparison.Ordinal);
        if (bang >= 0)
        {
            assemblyName = entryType[..bang].Trim();
            typeName = entryType[(bang + 1)..].Trim();
        }
        else
        {
            int comma = entryType.IndexOf(',', StringComparison.Ordinal);
            if (comma >= 0)
            {
                typeName = entryType[..comma].Trim();
                try
                {
                    assemblyName = new AssemblyName(entryType[(comma + 1)..].Trim()).Name;
                }
                catch (FileLoadException)
                {
                    return false;
                }
            }
        }

        return typeName.Length > 0 && (assemblyName is null || assemblyName.Length > 0);
    }
}
