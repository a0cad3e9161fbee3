using Broker.Host.Cli;

return await BrokerCommandLine.InvokeAsync(args).ConfigureAwait(false);
