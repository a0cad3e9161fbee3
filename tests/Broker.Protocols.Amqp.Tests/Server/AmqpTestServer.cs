using System.Net;
using Broker.Protocols.Amqp.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Protocols.Amqp.Tests.Server;

/// <summary>The AMQP engine on a real Kestrel listener on loopback, port chosen by the OS.</summary>
internal sealed class AmqpTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AmqpTestServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public AmqpConnectionMonitor Monitor => _app.Services.GetRequiredService<AmqpConnectionMonitor>();

    public static async Task<AmqpTestServer> StartAsync(IAmqpLinkHandler links, IAmqpSaslAuthenticator? authenticator = null,
        Action<AmqpServerOptions>? configure = null, TimeProvider? time = null, ILoggerProvider? logs = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddAmqpServer(configure);
        builder.Services.AddSingleton(links);
        if (authenticator is not null)
        {
            builder.Services.AddSingleton(authenticator);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseConnectionHandler<AmqpConnectionHandler>()));
        WebApplication app = builder.Build();
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new AmqpTestServer(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
