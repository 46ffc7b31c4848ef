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

    /// <summary>
    /// An unknown <c>kid</c> may mean a key just added elsewhere, so it triggers a rescan, but at most this often:
    /// a stream of forged tokens with random kids must not turn every request into a folder read.
    /// </summary>
    private static readonly TimeSpan MinRescanInterval = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private volatile IReadOnlyList<ECDsaSecurityKey> _keys = [];
    private long _lastScanTicks;
    private int _scanning;

    public string Folder => Path.GetFullPath(settings.KeysPath);

    /// <summary>The key that signs new tokens.</summary>
    public ECDsaSecurityKey SigningKey => Keys()[^1];

    /// <summary>Every key that may verify a token, newest last.</summary>
    /// <param name="unknownKeyId">True when a token named a key we do not have: rescan early (rate-limited).</param>
    public IReadOnlyList<ECDsaSecurityKey> Keys(bool unknownKeyId = false)
    {
        var sinceScan = TimeSpan.FromTicks(clock.GetUtcNow().UtcTicks - Interlocked.Read(ref _lastScanTicks));
        var keys = _keys;
        if (keys.Count == 0 || sinceScan > RescanInterval || (unknownKeyId && sinceScan > MinRescanInterval))
        {
            keys = Rescan(keys.Count == 0);
        }

        return keys.Count > 0 ? keys : throw new InvalidOperationException($"No signing key in {Folder}");
    }

    /// <summary>
    /// Reads the folder outside any lock; one request rescans while the others keep using the keys they have
    /// (unless there are none yet, when they wait for the first scan).
    /// </summary>
    private IReadOnlyList<ECDsaSecurityKey> Rescan(bool mustWait)
    {
        if (Interlocked.CompareExchange(ref _scanning, 1, 0) != 0)
        {
            if (!mustWait)
            {
                return _keys;
            }

            lock (_gate)
            {
                return _keys.Count > 0 ? _keys : Publish(Load());
            }
        }

        try
        {
            return Publish(Load());
        }
        finally
        {
            Volatile.Write(ref _scanning, 0);
        }
    }

    private List<ECDsaSecurityKey> Publish(List<ECDsaSecurityKey> keys)
    {
        lock (_gate)
        {
            _keys = keys;
            Interlocked.Exchange(ref _lastScanTicks, clock.GetUtcNow().UtcTicks);
        }

        return keys;
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
        var kid = Guid.CreateVersion7().ToString("N");
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var path = Path.Combine(Folder, kid + ".pem");
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Private from the first byte: the folder is 0700 and the file is created 0600, never chmod-ed later.
            Directory.CreateDirectory(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        else
        {
            Directory.CreateDirectory(Folder);
        }

        using (var writer = new StreamWriter(new FileStream(temp, options)))
        {
            writer.Write(ecdsa.ExportPkcs8PrivateKeyPem());
        }

        // Rename is atomic: a node scanning the folder never reads half a key.
        File.Move(temp, path);
        Publish(Load());
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
