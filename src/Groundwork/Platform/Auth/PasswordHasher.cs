using Groundwork.Platform.Configuration;

namespace Groundwork.Platform.Auth;

/// <summary>bcrypt with the configured work factor (≥ 11 in Production).</summary>
public sealed class PasswordHasher(GroundworkSettings settings)
{
    // Verifying against this when the account does not exist makes "unknown email" cost the same as
    // "wrong password", so timing does not reveal which emails are registered.
    private readonly Lazy<string> _decoyHash = new(() =>
        BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString(), settings.BcryptWorkFactor));

    public string Hash(string password) => BCrypt.Net.BCrypt.HashPassword(password, settings.BcryptWorkFactor);

    public bool Verify(string password, string? hash)
    {
        if (hash is null)
        {
            BCrypt.Net.BCrypt.Verify(password, _decoyHash.Value);
            return false;
        }

        return BCrypt.Net.BCrypt.Verify(password, hash);
    }

    /// <summary>Computes the decoy at start-up so the first unknown-email login is not measurably faster.</summary>
    public void Warm() => _ = _decoyHash.Value;
}
