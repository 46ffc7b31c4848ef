using System.Security.Cryptography;
using Groundwork.Platform.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace Groundwork.Platform.Auth;

/// <summary>
/// The ES256 keys that sign and verify access tokens, one PEM file per key in <c>Groundwork:Auth:KeysPath</c>.
/// Key ids are UUIDv7, so the newest key sorts last and signs; every key in the folder verifies, which is
/// what lets <c>groundwork rotate-signing-key</c> add a key without logging anyone out. The folder is re-read
/// every few seconds, so a key added by the CLI (or on another node sharing the folder) is picked up live.
/// </summary>
public sealed class SigningKeyStore(GroundworkSettings settings, TimeProvider clock, ILogger<SigningKeyStore> logger)
{
    private static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(5);
    private readonly Lock _gate = new();
    private IReadOnlyList<ECDsaSecurityKey> _keys = [];
    private DateTimeOffset _lastScan = DateTimeOffset.MinValue;

    public string Folder => Path.GetFullPath(settings.KeysPath);

    /// <summary>The key that signs new tokens.</summary>
    public ECDsaSecurityKey SigningKey => Keys()[^1];

    /// <summary>Every key that may verify a token, newest last.</summary>
    public IReadOnlyList<ECDsaSecurityKey> Keys(bool forceRescan = false)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            if (forceRescan || _keys.Count == 0 || now - _lastScan > RescanInterval)
            {
                _keys = Load();
                _lastScan = now;
            }

            return _keys.Count > 0 ? _keys : throw new InvalidOperationException($"No signing key in {Folder}");
        }
    }

    /// <summary>Creates the first key when the folder has none (first start of the embedded default).</summary>
    public void EnsureKey()
    {
        if (Load().Count == 0)
        {
            var kid = AddKey();
            logger.LogInformation("Generated signing key {KeyId} in {Folder}", kid, Folder);
        }
    }

    /// <summary>Adds a new newest key; older keys keep verifying the tokens they signed.</summary>
    public string AddKey()
    {
        Directory.CreateDirectory(Folder);
        var kid = Guid.CreateVersion7().ToString("N");
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = Path.Combine(Folder, kid + ".pem");
        var temp = path + ".tmp";
        File.WriteAllText(temp, ecdsa.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // Rename is atomic: a node scanning the folder never reads half a key.
        File.Move(temp, path);
        lock (_gate)
        {
            _keys = Load();
            _lastScan = clock.GetUtcNow();
        }

        return kid;
    }

    private List<ECDsaSecurityKey> Load()
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }

        return Directory.GetFiles(Folder, "*.pem")
            .Order(StringComparer.Ordinal)
            .Select(file =>
            {
                var ecdsa = ECDsa.Create();
                ecdsa.ImportFromPem(File.ReadAllText(file));
                return new ECDsaSecurityKey(ecdsa) { KeyId = Path.GetFileNameWithoutExtension(file) };
            })
            .ToList();
    }
}
