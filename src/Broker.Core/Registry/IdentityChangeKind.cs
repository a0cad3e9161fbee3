namespace Broker.Core.Registry;

/// <summary>Kinds of <see cref="IdentityChange"/>.</summary>
public enum IdentityChangeKind
{
    /// <summary>The identity was disabled.</summary>
    Disabled,

    /// <summary>The identity was deleted.</summary>
    Deleted,
}
