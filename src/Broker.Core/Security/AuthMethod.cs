namespace Broker.Core.Security;

/// <summary>How a connection proved its identity (feeds <c>iothub-connection-auth-method</c>).</summary>
public enum AuthMethod
{
    /// <summary>Not authenticated.</summary>
    None = 0,

    /// <summary>A SAS token signed with the identity's own key.</summary>
    IdentityKey,

    /// <summary>A SAS token signed with a hub policy key (<c>skn</c>).</summary>
    PolicyKey,

    /// <summary>A client certificate matching a registered thumbprint.</summary>
    X509SelfSigned,

    /// <summary>Admitted by an authentication plug-in (its method name is in the log).</summary>
    Plugin,
}
