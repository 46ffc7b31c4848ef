using System.Globalization;

namespace Groundwork.Platform.Configuration;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>A configuration value that cannot work. The message names the key; start-up prints it and exits.</summary>
public sealed class ConfigurationException(string key, string problem)
    : Exception($"Invalid configuration: {key} {problem}")
{
    public string Key { get; } = key;
}

/// <summary>How traces, metrics and logs travel to the collector (<c>Groundwork:Observability:OtlpProtocol</c>).</summary>
public enum OtlpProtocol
{
    /// <summary><c>grpc</c>: the collector's gRPC port, usually 4317.</summary>
    Grpc,

    /// <summary><c>http/protobuf</c>: the collector's HTTP port, usually 4318.</summary>
    HttpProtobuf,
}

public enum MessageBroker
{
    InProcess,
    RabbitMq,
}

/// <param name="AllowPrivateTargets">Deliver to private, loopback and link-local addresses (<c>AllowPrivateTargets</c>; off: an SSRF guard).</param>
/// <param name="Timeout">How long one delivery attempt may take (<c>Timeout</c>).</param>
/// <param name="FirstRetry">The wait before the first retry; each next one doubles, up to an hour, with ±20 % jitter (<c>FirstRetry</c>).</param>
/// <param name="RetryFor">How long a delivery is retried before it is marked failed (<c>RetryFor</c>).</param>
/// <param name="SecretGrace">How long the previous secret still signs after a rotation (<c>SecretGrace</c>).</param>
/// <param name="KeepDeliveriesFor">How long finished deliveries and their attempt logs are kept (<c>KeepDeliveriesFor</c>).</param>
public sealed record WebhookSettings(
    bool AllowPrivateTargets = false,
    TimeSpan? Timeout = null,
    TimeSpan? FirstRetry = null,
    TimeSpan? RetryFor = null,
    TimeSpan? SecretGrace = null,
    TimeSpan? KeepDeliveriesFor = null)
{
    public TimeSpan DeliveryRetention => KeepDeliveriesFor ?? TimeSpan.FromDays(30);
    public TimeSpan AttemptTimeout => Timeout ?? TimeSpan.FromSeconds(10);
    public TimeSpan FirstRetryDelay => FirstRetry ?? TimeSpan.FromSeconds(10);
    public TimeSpan RetryWindow => RetryFor ?? TimeSpan.FromHours(24);
    public TimeSpan PreviousSecretGrace => SecretGrace ?? TimeSpan.FromHours(24);
}

public sealed record RateLimitRule(int Permits, TimeSpan Window)
{
    public override string ToString() => $"{Permits}/{Window.TotalSeconds:0}s";
}

public sealed record RateLimitSettings(
    RateLimitRule Default,
    RateLimitRule LoginPerIp,
    RateLimitRule LoginPerAccount,
    RateLimitRule RegisterPerIp,
    RateLimitRule Transfers,
    RateLimitRule PasswordChangePerAccount,
    RateLimitRule FailedCredentialsPerIp);

/// <summary>
/// Every setting (the README's Configuration table), read and checked once at start. Reading it here (not with IOptions scattered
/// across features) is what lets a bad value fail the start with one line instead of the first request.
/// </summary>
public sealed record GroundworkSettings
{
    public required DatabaseProvider Provider { get; init; }
    public required string ConnectionString { get; init; }
    public bool MigrateOnStart { get; init; } = true;
    public required string Issuer { get; init; }
    public required string Audience { get; init; }
    public required TimeSpan AccessTokenLifetime { get; init; }
    public required TimeSpan RefreshTokenLifetime { get; init; }
    public required string KeysPath { get; init; }
    public required int BcryptWorkFactor { get; init; }
    public required IReadOnlyList<string> CorsOrigins { get; init; }

    /// <summary>
    /// Proxies (addresses or CIDR networks) whose <c>X-Forwarded-For</c>/<c>-Proto</c> are believed
    /// (<c>Groundwork:Network:KnownProxies</c>). Nobody else's are: a client cannot pick its own IP for rate limits.
    /// </summary>
    public IReadOnlyList<System.Net.IPNetwork> KnownProxies { get; init; } = [];
    public required RateLimitSettings RateLimits { get; init; }

    /// <summary>
    /// StackExchange.Redis configuration (<c>host:port,...</c>, <c>Groundwork:Redis</c>); null runs without Redis:
    /// rate limits and the entity cache in process only (right for a single node).
    /// </summary>
    public string? Redis { get; init; }

    /// <summary>The most objects one GraphQL request may resolve before it is stopped (<c>Groundwork:GraphQL:MaxResolvedObjects</c>).</summary>
    public int GraphQLMaxResolvedObjects { get; init; } = 5_000;

    /// <summary>The most characters of text one GraphQL response may carry (<c>Groundwork:GraphQL:MaxResponseChars</c>).</summary>
    public long GraphQLMaxResponseChars { get; init; } = 8_000_000;

    /// <summary>GraphQL WebSockets one client IP may hold open on one node (<c>Groundwork:GraphQL:MaxSocketsPerIp</c>).</summary>
    public int GraphQLMaxSocketsPerIp { get; init; } = 100;

    /// <summary>How long a GraphQL WebSocket may stay open without <c>connection_init</c> (<c>Groundwork:GraphQL:ConnectionInitTimeout</c>).</summary>
    public TimeSpan GraphQLConnectionInitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a GraphQL WebSocket's client may take nothing of what it is sent (each 64 KiB of a message) before its
    /// connection is dropped (<c>Groundwork:GraphQL:SocketSendTimeout</c>).
    /// </summary>
    public TimeSpan GraphQLSocketSendTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often buffered "last seen" timestamps are written (<c>Groundwork:WriteBehind:Interval</c>): the most a crash loses.</summary>
    public TimeSpan WriteBehindInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With Redis: how old a cache repair record must be before any node applies it (<c>Groundwork:Cache:RepairAfter</c>):
    /// how long a node that died between a commit and its cache write-through can leave the old value readable.
    /// ADR 0024.
    /// </summary>
    public TimeSpan CacheRepairAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often native memory freed inside glibc's arenas is given back to the system, when code was compiled since
    /// the last time (<c>Groundwork:Runtime:TrimNativeMemoryEvery</c>); zero turns it off. ADR 0019.
    /// </summary>
    public TimeSpan TrimNativeMemoryEvery { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where the outbox relay publishes events (<c>Groundwork:Messaging:Broker</c>): in process (one node) or RabbitMQ.</summary>
    public MessageBroker Broker { get; init; } = MessageBroker.InProcess;

    /// <summary><c>Groundwork:Messaging:RabbitMq:Uri</c> (<c>amqp://user:pass@host:port/vhost</c>); required with the RabbitMQ broker.</summary>
    public Uri? RabbitMqUri { get; init; }

    /// <summary>How long published events stay for replay (<c>Groundwork:Messaging:Retention</c>, at least 24 h).</summary>
    public TimeSpan EventRetention { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often the relay looks for events committed by other nodes (<c>Groundwork:Messaging:PollInterval</c>);
    /// this node's own commits wake it (passes are at least <see cref="EventBatchWindow"/> apart).
    /// </summary>
    public TimeSpan RelayPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The shortest time from the start of one pass of the outbox relay to the start of the next
    /// (<c>Groundwork:Messaging:BatchWindow</c>): under load, the events committed meanwhile go in one pass; after a
    /// quiet spell an event goes at once. 0 = no window.
    /// </summary>
    public TimeSpan EventBatchWindow { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// How long the relay waits for the broker to confirm a batch (<c>Groundwork:Messaging:PublishTimeout</c>). Past
    /// it, the relay's transaction rolls back and the batch is sent again later, so outside consumers may receive an
    /// event more than once and must deduplicate by its id (as with any at-least-once delivery): a broker that
    /// blocks its publishers (RabbitMQ's memory or disk alarm) must not hold a database transaction open meanwhile.
    /// </summary>
    public TimeSpan EventPublishTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The same for the durable consumers (webhook fan-out, audit log; <c>Groundwork:Messaging:ConsumerBatchWindow</c>).
    /// Longer than the relay's: nobody watches them within milliseconds, and each pass costs a transaction per
    /// consumer, so under load a longer window takes most of their cost off the database. 0 = no window.
    /// </summary>
    public TimeSpan ConsumerBatchWindow { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long an idle event stream waits before a keep-alive, and how often it re-checks its credential (<c>Groundwork:Events:Heartbeat</c>).</summary>
    public TimeSpan EventHeartbeat { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Event streams one user (or API key) may hold open at once on one node (<c>Groundwork:Events:MaxStreamsPerUser</c>).</summary>
    public int MaxStreamsPerUser { get; init; } = 5;

    /// <summary>Where Prometheus scrapes <c>/metrics</c> (<c>Groundwork:Observability:MetricsUrl</c>, a listener of its own); empty: no metrics endpoint.</summary>
    public string? MetricsUrl { get; init; }

    /// <summary>
    /// Where traces, metrics and logs are sent over OTLP (<c>Groundwork:Observability:OtlpEndpoint</c>, e.g.
    /// <c>http://collector:4317</c>); empty: no tracing at all.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary><c>grpc</c> (the default) or <c>http/protobuf</c> (<c>Groundwork:Observability:OtlpProtocol</c>); the endpoint names the port.</summary>
    public OtlpProtocol OtlpProtocol { get; init; } = OtlpProtocol.Grpc;

    /// <summary>The share of new traces recorded, 0 to 1 (<c>Groundwork:Observability:TraceSampleRatio</c>); a caller's sampled parent is always followed.</summary>
    public double TraceSampleRatio { get; init; } = 1;

    /// <summary>
    /// How long a node keeps serving after SIGTERM while its readiness already fails, so load balancers stop
    /// sending it new requests before it stops listening (<c>Groundwork:Shutdown:Drain</c>).
    /// </summary>
    public TimeSpan ShutdownDrain { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The most a shutdown may take, drain included (<c>Groundwork:Shutdown:Timeout</c>).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long audit-log entries are kept (<c>Groundwork:Audit:Retention</c>).</summary>
    public TimeSpan AuditRetention { get; init; } = TimeSpan.FromDays(90);

    /// <summary>Webhook delivery (<c>Groundwork:Webhooks:*</c>).</summary>
    public WebhookSettings Webhooks { get; init; } = new();

    /// <summary>Maps the benchmark baseline endpoints (never in Production).</summary>
    public bool BenchEndpoints { get; init; }

    /// <summary>Where REST, GraphQL and the docs listen: the standard <c>Urls</c> setting (<c>;</c>-separated).</summary>
    public IReadOnlyList<string> HttpUrls { get; init; } = ["http://localhost:5080"];

    /// <summary>The HTTP/2-only (h2c) endpoint for gRPC, <c>Groundwork:Urls:Grpc</c>; empty turns the listener off.</summary>
    public string? GrpcUrl { get; init; } = "http://localhost:5081";

    /// <summary>The environments the benchmark baselines may run in: the benchmark's own and the tests'.</summary>
    public static readonly IReadOnlyList<string> BenchEnvironments = ["Benchmark", "Testing"];

    /// <param name="environment">The host's environment name (<c>ASPNETCORE_ENVIRONMENT</c>).</param>
    public static GroundworkSettings Load(IConfiguration configuration, string environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var isProduction = string.Equals(environment, Environments.Production, StringComparison.OrdinalIgnoreCase);

        var providerText = configuration["Groundwork:Database:Provider"] ?? "sqlite";
        var provider = providerText.Trim().ToLowerInvariant() switch
        {
            "sqlite" => DatabaseProvider.Sqlite,
            "postgres" or "postgresql" => DatabaseProvider.Postgres,
            _ => throw new ConfigurationException("Groundwork:Database:Provider", $"must be 'sqlite' or 'postgres' (got '{providerText}')"),
        };

        var connectionString = configuration.GetConnectionString("Database");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = provider == DatabaseProvider.Sqlite
                ? "Data Source=data/groundwork.db"
                : throw new ConfigurationException("ConnectionStrings:Database", "is required when the provider is 'postgres'");
        }

        try
        {
            // Parsed now, so a typo stops the start with one line instead of a stack trace at the first query.
            _ = provider == DatabaseProvider.Postgres
                ? new Npgsql.NpgsqlConnectionStringBuilder(connectionString).ConnectionString
                : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            // The message never repeats the value: it usually carries a password.
            throw new ConfigurationException("ConnectionStrings:Database", $"does not parse as a {(provider == DatabaseProvider.Postgres ? "PostgreSQL" : "SQLite")} connection string");
        }

        var workFactor = Int(configuration, "Groundwork:Auth:BcryptWorkFactor", 11);
        if (workFactor is < 4 or > 20 || (isProduction && workFactor < 11))
        {
            throw new ConfigurationException("Groundwork:Auth:BcryptWorkFactor", "must be between 11 and 20 (4 and up outside Production)");
        }

        // The baselines answer anonymous callers on loopback without limits (raw transfers among them). Behind a
        // proxy on the same host that is not configured as a known proxy, every caller can look like loopback, so
        // they exist only where nothing real runs.
        var bench = Bool(configuration, "Groundwork:Bench:Enabled", false);
        if (bench && !BenchEnvironments.Contains(environment, StringComparer.OrdinalIgnoreCase))
        {
            throw new ConfigurationException("Groundwork:Bench:Enabled", $"may be set only in the {string.Join(" or ", BenchEnvironments)} environment");
        }

        var accessLifetime = Span(configuration, "Groundwork:Auth:AccessTokenLifetime", TimeSpan.FromMinutes(15));
        if (accessLifetime > TimeSpan.FromDays(1))
        {
            throw new ConfigurationException("Groundwork:Auth:AccessTokenLifetime", "must be at most 1 day");
        }

        var brokerText = configuration["Groundwork:Messaging:Broker"] ?? "inprocess";
        var broker = brokerText.Trim().ToLowerInvariant() switch
        {
            "inprocess" or "" => MessageBroker.InProcess,
            "rabbitmq" => MessageBroker.RabbitMq,
            _ => throw new ConfigurationException("Groundwork:Messaging:Broker", $"must be 'inprocess' or 'rabbitmq' (got '{brokerText}')"),
        };
        var rabbitUri = AbsoluteUri(configuration, "Groundwork:Messaging:RabbitMq:Uri", ["amqp", "amqps"], "an amqp://user:pass@host:port/vhost URI");
        if (broker == MessageBroker.RabbitMq && rabbitUri is null)
        {
            throw new ConfigurationException("Groundwork:Messaging:RabbitMq:Uri", "is required when Groundwork:Messaging:Broker is 'rabbitmq'");
        }

        var retention = Span(configuration, "Groundwork:Messaging:Retention", TimeSpan.FromHours(24));
        if (retention < TimeSpan.FromHours(24))
        {
            throw new ConfigurationException("Groundwork:Messaging:Retention", "must be at least 1.00:00:00 (24 h): clients replay missed events from it");
        }

        // Zero drain is allowed (tests, a node without a load balancer); the timeout must leave time after it.
        var shutdownDrain = NonNegativeSpan(configuration, "Groundwork:Shutdown:Drain", TimeSpan.FromSeconds(5));
        var shutdownTimeout = Span(configuration, "Groundwork:Shutdown:Timeout", TimeSpan.FromSeconds(30));
        if (shutdownTimeout <= shutdownDrain)
        {
            throw new ConfigurationException("Groundwork:Shutdown:Timeout", "must be longer than Groundwork:Shutdown:Drain");
        }

        return new GroundworkSettings
        {
            Broker = broker,
            RabbitMqUri = rabbitUri,
            EventRetention = retention,
            RelayPollInterval = Span(configuration, "Groundwork:Messaging:PollInterval", TimeSpan.FromMilliseconds(250)),
            // Bounded above: a window is the least time between passes, so a mistyped one (a day for a millisecond)
            // would hold every event back that long.
            EventBatchWindow = NonNegativeSpan(configuration, "Groundwork:Messaging:BatchWindow", TimeSpan.FromMilliseconds(20), max: TimeSpan.FromSeconds(10)),
            // At least 1 s: shorter than a batch's confirms take, the relay would send the same batch again forever.
            EventPublishTimeout = Span(configuration, "Groundwork:Messaging:PublishTimeout", TimeSpan.FromSeconds(30), min: TimeSpan.FromSeconds(1), max: TimeSpan.FromMinutes(10)),
            ConsumerBatchWindow = NonNegativeSpan(configuration, "Groundwork:Messaging:ConsumerBatchWindow", TimeSpan.FromMilliseconds(250), max: TimeSpan.FromMinutes(1)),
            EventHeartbeat = Span(configuration, "Groundwork:Events:Heartbeat", TimeSpan.FromSeconds(15)),
            MaxStreamsPerUser = Positive(configuration, "Groundwork:Events:MaxStreamsPerUser", 5),
            Webhooks = new WebhookSettings(
                Bool(configuration, "Groundwork:Webhooks:AllowPrivateTargets", false),
                Span(configuration, "Groundwork:Webhooks:Timeout", TimeSpan.FromSeconds(10)),
                Span(configuration, "Groundwork:Webhooks:FirstRetry", TimeSpan.FromSeconds(10)),
                Span(configuration, "Groundwork:Webhooks:RetryFor", TimeSpan.FromHours(24)),
                Span(configuration, "Groundwork:Webhooks:SecretGrace", TimeSpan.FromHours(24)),
                Span(configuration, "Groundwork:Webhooks:KeepDeliveriesFor", TimeSpan.FromDays(30))),
            MetricsUrl = configuration["Groundwork:Observability:MetricsUrl"] is { } metrics && !string.IsNullOrWhiteSpace(metrics)
                ? Urls(configuration, "Groundwork:Observability:MetricsUrl", metrics) is [var single] ? single
                    : throw new ConfigurationException("Groundwork:Observability:MetricsUrl", "must be one URL")
                : null,
            OtlpEndpoint = AbsoluteUri(configuration, "Groundwork:Observability:OtlpEndpoint", ["http", "https"], "an http(s)://host:port URL"),
            OtlpProtocol = configuration["Groundwork:Observability:OtlpProtocol"]?.Trim() switch
            {
                null or "" or "grpc" => OtlpProtocol.Grpc,
                "http/protobuf" => OtlpProtocol.HttpProtobuf,
                var protocol => throw new ConfigurationException("Groundwork:Observability:OtlpProtocol", $"must be grpc or http/protobuf (got '{protocol}')"),
            },
            TraceSampleRatio = configuration["Groundwork:Observability:TraceSampleRatio"] is not { Length: > 0 } ratio ? 1
                : double.TryParse(ratio, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1 ? r
                : throw new ConfigurationException("Groundwork:Observability:TraceSampleRatio", $"must be a number from 0 to 1 (got '{ratio}')"),
            ShutdownDrain = shutdownDrain,
            ShutdownTimeout = shutdownTimeout,
            AuditRetention = Span(configuration, "Groundwork:Audit:Retention", TimeSpan.FromDays(90)),
            Provider = provider,
            ConnectionString = connectionString,
            MigrateOnStart = Bool(configuration, "Groundwork:Database:MigrateOnStart", true),
            Issuer = Text(configuration, "Groundwork:Auth:Issuer", "groundwork"),
            Audience = Text(configuration, "Groundwork:Auth:Audience", "groundwork-api"),
            AccessTokenLifetime = accessLifetime,
            RefreshTokenLifetime = Span(configuration, "Groundwork:Auth:RefreshTokenLifetime", TimeSpan.FromDays(7)),
            KeysPath = Text(configuration, "Groundwork:Auth:KeysPath", "data/keys"),
            BcryptWorkFactor = workFactor,
            CorsOrigins = (configuration["Groundwork:Cors:Origins"] ?? "")
                .Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            RateLimits = new RateLimitSettings(
                Rule(configuration, "Default", 600),
                Rule(configuration, "LoginPerIp", 10),
                Rule(configuration, "LoginPerAccount", 5),
                Rule(configuration, "RegisterPerIp", 5),
                Rule(configuration, "Transfers", 60),
                Rule(configuration, "PasswordChangePerAccount", 5),
                Rule(configuration, "FailedCredentialsPerIp", 60)),
            KnownProxies = Networks(configuration, "Groundwork:Network:KnownProxies"),
            Redis = RedisConfiguration(configuration, "Groundwork:Redis"),
            BenchEndpoints = bench,
            WriteBehindInterval = Span(configuration, "Groundwork:WriteBehind:Interval", TimeSpan.FromSeconds(5)),
            CacheRepairAfter = Span(configuration, "Groundwork:Cache:RepairAfter", TimeSpan.FromSeconds(10), min: CacheRepairAfterMinimum),
            TrimNativeMemoryEvery = NonNegativeSpan(configuration, "Groundwork:Runtime:TrimNativeMemoryEvery", TimeSpan.FromSeconds(1)),
            GraphQLMaxResolvedObjects = Positive(configuration, "Groundwork:GraphQL:MaxResolvedObjects", 5_000),
            GraphQLMaxSocketsPerIp = Positive(configuration, "Groundwork:GraphQL:MaxSocketsPerIp", 100),
            GraphQLConnectionInitTimeout = Span(configuration, "Groundwork:GraphQL:ConnectionInitTimeout", TimeSpan.FromSeconds(10)),
            GraphQLSocketSendTimeout = Span(configuration, "Groundwork:GraphQL:SocketSendTimeout", TimeSpan.FromSeconds(30)),
            GraphQLMaxResponseChars = Positive(configuration, "Groundwork:GraphQL:MaxResponseChars", 8_000_000),
            HttpUrls = Urls(configuration, "Urls", "http://localhost:5080"),
            GrpcUrl = configuration["Groundwork:Urls:Grpc"] is { } grpc && string.IsNullOrWhiteSpace(grpc)
                ? null
                : Urls(configuration, "Groundwork:Urls:Grpc", "http://localhost:5081") is [var one] ? one
                : throw new ConfigurationException("Groundwork:Urls:Grpc", "must be one URL"),
        };
    }

    private static List<string> Urls(IConfiguration c, string key, string fallback)
    {
        var urls = (c[key] is { Length: > 0 } v ? v : fallback).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/")
            {
                throw new ConfigurationException(key, $"must be http(s)://host:port URLs (got '{url}')");
            }
        }

        return urls;
    }

    private static string Text(IConfiguration c, string key, string fallback)
    {
        var value = c[key];
        if (value is null)
        {
            return fallback;
        }

        return string.IsNullOrWhiteSpace(value) ? throw new ConfigurationException(key, "must not be empty") : value.Trim();
    }

    private static int Int(IConfiguration c, string key, int fallback) =>
        c[key] is not { } v ? fallback
        : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
        : throw new ConfigurationException(key, $"must be an integer (got '{v}')");

    private static List<System.Net.IPNetwork> Networks(IConfiguration c, string key)
    {
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in (c[key] ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (System.Net.IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (System.Net.IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                throw new ConfigurationException(key, $"must be IP addresses or CIDR networks (got '{entry}')");
            }
        }

        return networks;
    }

    private static string? RedisConfiguration(IConfiguration c, string key)
    {
        var value = c[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(value).EndPoints.Count > 0
                ? value.Trim()
                : throw new ConfigurationException(key, "must name at least one host:port");
        }
        catch (ArgumentException)
        {
            throw new ConfigurationException(key, "must be a Redis configuration such as 'localhost:6379'");
        }
    }

    /// <summary>
    /// An absolute URI with one of <paramref name="schemes"/> and a host, or null when unset. The error never repeats
    /// the value: such URIs may carry a password (<c>amqp://user:pass@host</c>).
    /// </summary>
    private static Uri? AbsoluteUri(IConfiguration c, string key, string[] schemes, string expected)
    {
        var value = c[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && schemes.Contains(uri.Scheme) && uri.Host.Length > 0
            ? uri
            : throw new ConfigurationException(key, $"must be {expected}");
    }

    private static int Positive(IConfiguration c, string key, int fallback) =>
        Int(c, key, fallback) is var n && n > 0 ? n : throw new ConfigurationException(key, "must be a positive integer");

    private static bool Bool(IConfiguration c, string key, bool fallback) =>
        c[key] is not { } v ? fallback
        : bool.TryParse(v, out var b) ? b
        : throw new ConfigurationException(key, $"must be true or false (got '{v}')");

    private static TimeSpan Span(IConfiguration c, string key, TimeSpan fallback, TimeSpan? min = null, TimeSpan? max = null)
    {
        if (c[key] is not { } v)
        {
            return fallback;
        }

        return TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var t) && t > TimeSpan.Zero
            ? Within(t, key, min, max)
            : throw new ConfigurationException(key, $"must be a positive time span like 00:15:00 (got '{v}')");
    }

    /// <summary>
    /// Twice the interval at which writers delete their completed repair records: any shorter, and live writers'
    /// records would be repaired too (every write's entries held out of the cache).
    /// </summary>
    public static readonly TimeSpan CacheRepairAfterMinimum = TimeSpan.FromSeconds(2);

    /// <summary>Refuses a configured span outside [<paramref name="min"/>, <paramref name="max"/>], naming the key.</summary>
    private static TimeSpan Within(TimeSpan value, string key, TimeSpan? min, TimeSpan? max) =>
        value < min ? throw new ConfigurationException(key, $"must be at least {min} (got {value})")
        : value > max ? throw new ConfigurationException(key, $"must be at most {max} (got {value})")
        : value;

    /// <summary>Like <see cref="Span"/>, but zero (<c>0</c>, <c>00:00:00</c>) is allowed and means "none".</summary>
    private static TimeSpan NonNegativeSpan(IConfiguration c, string key, TimeSpan fallback, TimeSpan? max = null)
    {
        if (c[key] is not { } v)
        {
            return fallback;
        }

        return v.Trim() == "0" ? TimeSpan.Zero
            : TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var t) && t >= TimeSpan.Zero ? Within(t, key, null, max)
            : throw new ConfigurationException(key, $"must be a time span like 00:00:05, or 0 (got '{v}')");
    }

    /// <summary>Limits are "permits per minute" (e.g. <c>Groundwork:RateLimits:Default=600</c>).</summary>
    private static RateLimitRule Rule(IConfiguration c, string name, int perMinute)
    {
        var key = $"Groundwork:RateLimits:{name}";
        var permits = Int(c, key, perMinute);
        return permits < 1 ? throw new ConfigurationException(key, "must be at least 1") : new RateLimitRule(permits, TimeSpan.FromMinutes(1));
    }
}
