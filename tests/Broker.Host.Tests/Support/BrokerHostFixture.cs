namespace Broker.Host.Tests.Support;

/// <summary>
/// One <see cref="TestBroker"/> shared by a test class (<c>IClassFixture&lt;BrokerHostFixture&gt;</c>). Tests that
/// share it use their own device ids; a test that needs its own configuration starts its own <see cref="TestBroker"/>.
/// </summary>
public sealed class BrokerHostFixture : IAsyncLifetime
{
    private TestBroker? _broker;

    /// <summary>The shared broker.</summary>
    public TestBroker Broker => _broker ?? throw new InvalidOperationException("The fixture has not been initialized.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}
