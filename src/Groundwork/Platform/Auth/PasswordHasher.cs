using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.Auth;

/// <summary>
/// bcrypt with the configured work factor (≥ 11 in Production), run through <see cref="PasswordWork"/>: on threads
/// of its own, at most one hash per core at a time, so a burst of logins cannot take the thread pool from the rest
/// of the node. Operations hash in <see cref="Operations.IOperation{TRequest,TResponse}.PrepareAsync"/>, before their
/// transaction opens, so no database connection (or SQLite's write lock) is held while bcrypt runs (ADR 0025).
/// </summary>
public sealed class PasswordHasher(GroundworkSettings settings, PasswordWork work)
{
    // Verifying against this when the account does not exist makes "unknown email" cost the same as
    // "wrong password", so timing does not reveal which emails are registered.
    private readonly Lazy<string> _decoyHash = new(() =>
        BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString(), settings.BcryptWorkFactor));

    public Task<string> HashAsync(string password, CancellationToken cancellationToken) =>
        work.RunAsync(() => BCrypt.Net.BCrypt.HashPassword(password, settings.BcryptWorkFactor), cancellationToken);

    /// <summary>The most UTF-8 bytes of a password bcrypt reads; registration and password changes refuse longer ones.</summary>
    public const int MaxPasswordBytes = 72;

    /// <summary>
    /// Checks <paramref name="password"/> against <paramref name="hash"/> (null: no such account, checked against the
    /// decoy). A password longer than <see cref="MaxPasswordBytes"/> never matches: bcrypt would compare its first
    /// 72 bytes only, so a stored password followed by anything at all would sign in. It is checked against the decoy,
    /// at the cost of any wrong password.
    /// </summary>
    public async Task<PasswordCheck> CheckAsync(string password, string? hash, CancellationToken cancellationToken)
    {
        var tooLong = System.Text.Encoding.UTF8.GetByteCount(password) > MaxPasswordBytes;
        var against = tooLong ? null : hash;
        return new(hash, await work.RunAsync(() => BCrypt.Net.BCrypt.Verify(password, against ?? _decoyHash.Value) && against is not null, cancellationToken));
    }

    /// <summary>
    /// Whether <paramref name="password"/> matches <paramref name="hash"/> as stored now: the answer of the check made
    /// before the transaction when it was made against this same hash, else (the password changed in between) a
    /// new check.
    /// </summary>
    public async Task<bool> MatchesAsync(string password, string? hash, PasswordCheck? before, CancellationToken cancellationToken) =>
        before is not null && before.Hash == hash ? before.Matches : (await CheckAsync(password, hash, cancellationToken)).Matches;

    /// <summary>Refuses at once (503) when the node's hashing queue is full: call it before the reads a check needs.</summary>
    public void RefuseIfFull() => work.RefuseIfFull();

    /// <summary>Computes the decoy at start-up so the first unknown-email login is not measurably faster.</summary>
    public void Warm() => _ = _decoyHash.Value;
}

/// <summary>A password checked against the hash read at that moment (null: no such account).</summary>
public sealed record PasswordCheck(string? Hash, bool Matches);
