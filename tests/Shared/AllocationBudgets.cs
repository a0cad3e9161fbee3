using System.Text.Json;

namespace Broker.Testing;

/// <summary>The allocation budgets in <c>benchmarks/allocation-budget.json</c>, read from the repository the tests run in.</summary>
internal static class AllocationBudgets
{
    /// <summary>The budget named <paramref name="key"/>, in bytes; a missing key fails the test that asks for it.</summary>
    public static long Of(string key)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "benchmarks", "allocation-budget.json");
            if (File.Exists(Path.Combine(dir.FullName, "Broker.sln")) && File.Exists(path))
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(path));
                Assert.True(document.RootElement.TryGetProperty(key, out JsonElement budget), $"{path} has no budget for {key}.");
                return budget.GetInt64();
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Broker.sln and benchmarks/allocation-budget.json.");
    }
}
