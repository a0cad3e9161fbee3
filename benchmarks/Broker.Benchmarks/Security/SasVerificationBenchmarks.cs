using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Broker.Core.Security;

namespace Broker.Benchmarks.Security;

/// <summary>SAS token parsing and HMAC verification, the CPU cost of every device CONNECT.</summary>
[MemoryDiagnoser]
public class SasVerificationBenchmarks
{
    private const string Host = "bench-hub.example";
    private string _token = "";
    private string _key = "";

    [GlobalSetup]
    public void Setup()
    {
        _key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        _token = SasTokenBuilder.Create(SasTokenBuilder.ResourceFor(Host, "dev-1"), _key, DateTimeOffset.UtcNow.AddHours(1));
    }

    [Benchmark]
    public bool ParseAndVerify()
    {
        if (!SharedAccessSignature.TryParse(_token, out var signature))
        {
            throw new InvalidOperationException("token did not parse");
        }

        return signature.IsSignedWithEither(_key, null);
    }
}
