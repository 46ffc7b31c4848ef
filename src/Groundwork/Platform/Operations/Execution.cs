using System.Data;

namespace Groundwork.Platform.Operations;

/// <summary>Whether an operation takes an idempotency key (docs/api/limits.md): the same answer over every transport.</summary>
public enum IdempotencyMode
{
    /// <summary>No key: reads, updates and deletes (naturally idempotent), and responses that must not be stored (tokens, secrets).</summary>
    None,

    /// <summary>A key is honoured when the client sends one.</summary>
    Optional,

    /// <summary>No key, no run: money movement, where a blind retry could pay twice.</summary>
    Required,
}

/// <summary>How the pipeline runs an operation's handler; declared by the operation.</summary>
public sealed record Execution
{
    private Execution(bool writes, IsolationLevel? isolation, IdempotencyMode idempotency, string? name)
    {
        Writes = writes;
        Isolation = isolation;
        Idempotency = idempotency;
        IdempotencyName = name;
    }

    /// <summary>Runs in the pipeline's transaction, which saves and commits what the handler staged.</summary>
    public bool Writes { get; }

    /// <summary>Set when the handler needs one consistent snapshot (a transaction at this level).</summary>
    public IsolationLevel? Isolation { get; }

    public IdempotencyMode Idempotency { get; }

    /// <summary>
    /// The stable name idempotency records are stored under (with a hash of the request). Never derived from a
    /// class name: renaming code must not invalidate keys clients hold.
    /// </summary>
    public string? IdempotencyName { get; }

    public bool InTransaction => Writes || Isolation is not null;

    /// <summary>A read: no transaction, no key.</summary>
    public static Execution Read { get; } = new(false, null, IdempotencyMode.None, null);

    /// <summary>A read that must see one consistent state of several tables (ledger verification).</summary>
    public static Execution SnapshotRead { get; } = new(false, IsolationLevel.RepeatableRead, IdempotencyMode.None, null);

    /// <summary>A write that takes no idempotency key.</summary>
    public static Execution Write { get; } = new(true, null, IdempotencyMode.None, null);

    /// <summary>A write that honours a key when one is sent; <paramref name="name"/> is its stable record name.</summary>
    public static Execution WriteWithOptionalKey(string name) => new(true, null, IdempotencyMode.Optional, Named(name));

    /// <summary>A write that refuses to run without a key; <paramref name="name"/> is its stable record name.</summary>
    public static Execution WriteWithRequiredKey(string name) => new(true, null, IdempotencyMode.Required, Named(name));

    private static string Named(string name) =>
        string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("An idempotent operation needs a stable name", nameof(name)) : name;
}
