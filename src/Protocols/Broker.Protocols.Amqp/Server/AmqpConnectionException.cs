namespace Broker.Protocols.Amqp.Server;

/// <summary>A protocol violation found while handling a frame: the connection closes with this condition.</summary>
internal sealed class AmqpConnectionException : Exception
{
    public AmqpConnectionException()
        : this("amqp:internal-error", "Internal error.")
    {
    }

    public AmqpConnectionException(string message)
        : this("amqp:not-allowed", message)
    {
    }

    public AmqpConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Condition = "amqp:internal-error";
    }

    public AmqpConnectionException(string condition, string description)
        : base(description)
    {
        Condition = condition;
    }

    public string Condition { get; }
}
