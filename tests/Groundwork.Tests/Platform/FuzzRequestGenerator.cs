using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace Groundwork.Tests.Platform;

/// <summary>
/// CsCheck generators for one operation's requests, built from the OpenAPI document. Only the generators are used,
/// driven by one PCG in sequence: CsCheck's runner would shrink a failure by replaying requests against a server
/// whose state the earlier requests changed, which reproduces nothing.
/// </summary>
internal sealed class RequestGenerator
{
    private const string Tokens = "user other admin post draft order account otherAccount transfer apiKey session";

    private static readonly string[] UserTokens = ["@@user@@", "@@other@@", "@@admin@@"];
    private static readonly string[] AccountTokens = ["@@account@@", "@@otherAccount@@"];
    private static readonly string[] AllTokens = [.. Tokens.Split(' ').Select(t => $"@@{t}@@")];

    /// <summary>Plain strings that break naive handling: emoji, RTL override, combining marks, zero-width, injections.</summary>
    private static readonly string[] Specials =
    [
        "", " ", "   padded   ", "😀🎉👩‍👩‍👧", "\u202Eevil\u202C", "e\u0301\u0302\u0303\u0304\u0305\u0306", "Z̴̡̛͉a̷l̶g̸o̵", "𝕏𝔂𝔷",
        "\uFEFFbom", "zero\u200Bwidth", "line\u2028sep", "مرحبا بالعالم", "שלום", "日本語テキスト", "Ω≈ç√∫",
        "<script>alert(1)</script>", "' OR 1=1 --", "\"; DROP TABLE users; --", "../../etc/passwd", "%s%n%x%d", "{0}{1}",
        "${jndi:ldap://x}", "\\", "\"", "null", "NaN", "-Infinity", "\t\r\n", "\u007f", "\uffff", "\ufffe",
    ];

    /// <summary>JSON escapes a .NET string cannot round-trip as UTF-8: NUL, lone surrogates, controls.</summary>
    private static readonly string[] RawEscapes =
    [
        "\\u0000", "\\ud800", "\\udc00", "\\udbff\\u0041", "\\ud83d", "\\u0001", "\\u001b", "\\u0008", "\\ud83d\\ude00", "\\u0000\\u0000",
    ];

    private static readonly string[] MalformedJson =
    [
        "{", "}", "[", "{,\"a\": ", "{\"a\":}", "{\"a\" 1}", "nul", "tru", "{'a':1}", "{a:1}", "{\"a\":1,}", "[1,]", "// c\n{}",
        "/* c */{}", "{\"a\":1}garbage", "{\"a\":1}{\"b\":2}", "\"unterminated", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":01}",
        "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":.5}", "{\"a\":1e}", "\u0000", "{\"a\":\"\u0001\"}", "\uFEFF{}", " ", "\n",
        "{\"a\":\"b\"", "{\"\":}", "[[[[[[[[[[", "{\"a\":[}", "0x10", "{\"a\":-}", "{\"a\":+1}",
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D],
        [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D],
        [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00],
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D],
        [0xC0, 0x80],
        [0x00, 0x00, 0x00, 0x00],
    ];

    private static readonly string[] WrongTypes =
    [
        "[]", "{}", "\"\"", "\"wrong\"", "0", "-1", "1.5", "true", "false", "[1,2,3]", "{\"a\":1}", "[null]", "[[]]",
        "9223372036854775808", "-9223372036854775809", "1e309", "-0", "1E-400", "\"1\"", "\"true\"", "[\"a\"]",
    ];

    private static readonly string[] Integers =
    [
        "0", "-1", "1", "2", "2147483647", "-2147483648", "2147483648", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "1000000000000000", "1000000000000001", "999999999999999999999999", "1.5", "-0", "1e3",
        "1E400", "0.0000001", "4.0", "-2147483649", "4294967296",
    ];

    private static readonly string[] Dates =
    [
        "\"@@tomorrow@@\"", "\"@@tomorrow@@\"", "\"@@yesterday@@\"", "\"2020-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59.9999999Z\"",
        "\"0001-01-01T00:00:00Z\"", "\"2030-02-30T00:00:00Z\"", "\"2030-01-01\"", "\"2030-01-01T00:00:00+14:00\"",
        "\"2030-01-01T00:00:00-12:00\"", "\"tomorrow\"", "\"\"", "\"2030-01-01T25:61:00Z\"", "\"+275760-09-13T00:00:00Z\"",
        "0", "1700000000", "\"2030-13-01T00:00:00Z\"", "\"9999-12-31T23:59:59+00:00\"", "\"0001-01-01T00:00:00+14:00\"",
    ];

    private static readonly string[] ExtraPropertyNames =
    [
        "isAdmin", "id", "role", "__proto__", "constructor", "", "$type", "$id", "$ref", "total", "authorId", "userId", "balance",
        "version", "status", "名前", "😀", "a.b", "items[0]", "TITLE", " title", "title ",
    ];

    private static readonly string[] KnownQueryNames =
    [
        "page", "limit", "sort", "order", "q", "role", "createdAfter", "createdBefore", "status", "ownerId", "currency",
        "cursor", "after", "published", "authorId",
    ];

    private static readonly string[] QueryWords =
    [
        "true", "false", "maybe", "TRUE", "asc", "desc", "ASC", "name", "-name", "email", "createdAt", "-createdAt", "total", "balance",
        "user", "admin", "moderator", "pending", "paid", "cancelled", "refunded", "EUR", "usd", "id", "password", "passwordHash",
        "title,name", "name desc",
    ];

    /// <summary>Just over the 1 MiB limit: a 413, whatever the body says.</summary>
    private static readonly byte[] Oversized = Encoding.UTF8.GetBytes("{\"title\":\"" + new string('o', 1_100_000) + "\"}");

    private readonly JsonObject _document;

    public RequestGenerator(JsonObject document, FuzzOperation operation)
    {
        _document = document;
        Requests = Gen.Select(
            Caller(),
            Method(operation.Method),
            Path(operation),
            Query(operation),
            Body(operation),
            Headers(operation.Method),
            (caller, method, path, query, body, headers) => new FuzzRequest(method, caller, path, query, body, headers));
    }

    public Gen<FuzzRequest> Requests { get; }

    private static Gen<string> Caller() => Gen.Frequency<string>(
        (2, Gen.Const("anonymous")),
        (4, Gen.Const("user")),
        (3, Gen.Const("admin")),
        (1, Gen.Const("apikey")),
        (1, Gen.OneOf(
            "Bearer garbage", "Bearer ", "bearer", "Bearer a.b.c", "Basic Zm9vOmJhcg==", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
            "Bearer " + new string('x', 5_000), "Bearer \u00e9\u00e9", "Bearer eyJ.eyJ.sig extra", "Digest x")));

    private static Gen<string> Method(string declared) => Gen.Frequency<string>(
        (24, Gen.Const(declared)),
        (1, Gen.OneOf("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND")));

    /// <summary>The template with each parameter filled, plus the odd trailing mutation.</summary>
    private static Gen<string> Path(FuzzOperation operation)
    {
        var segments = operation.Path.Split('/');
        var parts = new List<Gen<string>>();
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.StartsWith('{') && segment.EndsWith('}'))
            {
                var name = segment[1..^1];
                var schema = operation.Parameters.FirstOrDefault(p => p["name"]?.GetValue<string>() == name)?["schema"];
                var isGuid = schema?["format"]?.GetValue<string>() == "uuid";
                parts.Add(PathValue(i > 0 ? segments[i - 1] : "", isGuid));
            }
            else
            {
                parts.Add(Gen.Const(segment));
            }
        }

        var suffix = Gen.Frequency<string>((30, Gen.Const("")), (1, Gen.OneOf("/", "/extra", "/../x", ".json", ";p=1", "//", "%2F..")));
        return Gen.Select(Sequence(parts), suffix, (values, tail) => string.Join('/', values) + tail);
    }

    /// <summary>Mostly a real object of the kind the path names; else another kind, a random GUID or garbage.</summary>
    private static Gen<string> PathValue(string collection, bool isGuid)
    {
        string[] real = collection switch
        {
            "users" => UserTokens,
            "posts" => ["@@post@@", "@@draft@@"],
            "orders" => ["@@order@@"],
            "accounts" => AccountTokens,
            "transfers" => ["@@transfer@@"],
            "api-keys" => ["@@apiKey@@"],
            "sessions" => ["@@session@@"],
            _ => AllTokens,
        };
        // No "%00": Kestrel refuses a NUL in the path with its own 400 before the app runs, and the in-memory
        // test server throws on it in the client; NUL is sent in query strings, bodies and headers instead.
        var garbage = Gen.Frequency<string>(
            (3, Gen.OneOf(
                "", "not-a-guid", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "1", "-1",
                "null", "undefined", "..", ".", "%2e%2e", "%ZZ", "a%20b", "%F0%9F%98%80", "%ED%A0%80", "%C3%28", "+", "~",
                "me", "self", "*", "1;DROP TABLE users")),
            (2, Gen.OneOf(Specials).Select(Uri.EscapeDataString)),
            (1, Gen.OneOf(100, 2_000, 10_000).Select(n => new string('a', n))),
            (2, Gen.Guid.Select(g => g.ToString("N"))),
            (1, Gen.Guid.Select(g => "{" + g + "}")),
            (1, Gen.Guid.Select(g => g.ToString().ToUpperInvariant() + "x")));
        return isGuid
            ? Gen.Frequency<string>((6, Gen.OneOf(real)), (2, Gen.OneOf(AllTokens)), (2, Gen.Guid.Select(g => g.ToString())), (3, garbage))
            : Gen.Frequency<string>((4, Gen.OneOf(real)), (3, garbage), (1, Gen.Guid.Select(g => g.ToString())));
    }

    /// <summary>Declared query parameters (none today) and the ones the list endpoints read, valid or not, and unknown ones.</summary>
    private static Gen<string> Query(FuzzOperation operation)
    {
        var declared = operation.Parameters.Where(p => p["in"]?.GetValue<string>() == "query").Select(p => p["name"]!.GetValue<string>());
        var names = Gen.OneOf([.. KnownQueryNames.Concat(declared).Distinct(StringComparer.Ordinal)]);
        var unknown = Gen.OneOf("foo", "Page", "LIMIT", "page[size]", "filter[role]", "q[]", "", "%00", "%F0%9F%98%80", "sort_by", "created_after", "page_");
        var pair = Gen.Select(names, QueryValue(), (name, value) => $"{name}={value}");
        var odd = Gen.Select(unknown, QueryValue(), (name, value) => $"{name}={value}");
        return Gen.Frequency<string>(
            (5, Gen.Const("")),
            (5, new GenArray<string>(pair)[1, 3].Select(p => string.Join('&', p))),
            (1, odd),
            (1, Gen.Select(pair, odd, (a, b) => $"{a}&{b}")),
            (1, pair.Select(p => $"{p}&{p}")),
            (1, Gen.OneOf("&&&", "=", "page", "page=", "=1", "a=1=2", "%", "%%%", "limit=1&limit=2&limit=3")));
    }

    /// <summary>Query values, already URL-encoded (tokens are GUIDs, safe as they are).</summary>
    private static Gen<string> QueryValue() => Gen.Frequency<string>(
        (3, Gen.OneOf(Integers).Select(Uri.EscapeDataString)),
        (3, Gen.OneOf(QueryWords).Select(Uri.EscapeDataString)),
        (2, Gen.OneOf(Specials).Select(Uri.EscapeDataString)),
        (1, Gen.OneOf(201, 300, 5_000).Select(n => new string('q', n))),
        (2, Gen.OneOf(AllTokens)),
        (1, Gen.OneOf(Dates).Select(d => Uri.EscapeDataString(d.Trim('"')))),
        (2, new GenArray<byte>(Gen.Byte)[0, 64].Select(b => Uri.EscapeDataString(Convert.ToBase64String(b)))),
        (1, Gen.OneOf("eyJpZCI6MX0", "eyJjIjoieCIsImkiOiJ5In0", "AAAA", "____", "!!!!", "e30", "bnVsbA", "W10")));

    private Gen<FuzzBody> Body(FuzzOperation operation)
    {
        if (operation.BodySchema is null)
        {
            // No body declared: mostly none, sometimes one anyway.
            return Gen.Frequency<FuzzBody>(
                (12, Gen.Const(new FuzzBody(null, null, null))),
                (1, Gen.Const(new FuzzBody("", null, "application/json"))),
                (1, ContentType().Select(c => new FuzzBody("{}", null, c))),
                (1, Gen.OneOf(MalformedJson).Select(m => new FuzzBody(m, null, "application/json"))),
                (1, Gen.Const(new FuzzBody("{\"title\":\"x\",\"amount\":1}", null, "application/json"))));
        }

        var valid = Value(operation.BodySchema, "body", 0, mutate: false);
        var mutated = Value(operation.BodySchema, "body", 0, mutate: true);
        var text = Gen.Frequency<string>(
            (8, valid),
            (12, mutated),
            (2, Gen.Select(mutated, Gen.Int[0, 99], (b, percent) => b[..(b.Length * percent / 100)])),
            (2, Gen.OneOf(MalformedJson)),
            (1, Gen.OneOf(WrongTypes)),
            (1, DeepNesting()),
            (1, Gen.Const("")),
            (1, Gen.Select(valid, Gen.OneOf(" ", "\n", "\uFEFF", "\u0000", "\u00A0"), (b, pad) => pad + b + pad)));
        var raw = Gen.Frequency<byte[]>(
            (3, Gen.OneOf(InvalidUtf8)),
            (1, valid.Select(b => Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(b)).ToArray())),
            (1, valid.Select(b => Encoding.UTF32.GetBytes(b))),
            (1, Gen.Const(Oversized)));
        return Gen.Frequency<FuzzBody>(
            (20, Gen.Select(text, ContentType(), (t, c) => new FuzzBody(t, null, c))),
            (1, Gen.Select(raw, ContentType(), (r, c) => new FuzzBody(null, r, c))),
            (1, Gen.Const(new FuzzBody(null, null, null))));
    }

    private static Gen<string?> ContentType() => Gen.Frequency<string?>(
        (12, Gen.Const<string?>("application/json")),
        (3, Gen.Const<string?>("application/json; charset=utf-8")),
        (1, Gen.Const((string?)null)),
        (1, Gen.OneOf<string?>(
            "application/json; charset=utf-16", "application/json; charset=latin1", "application/json; charset=\"utf-8\"",
            "application/json; charset=\"utf-8\"; x=y", "application/json; charset=foo", "application/json; charset=utf-7",
            "application/json; charset=", "APPLICATION/JSON; CHARSET=UTF-8")),
        (1, Gen.OneOf<string?>(
            "text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x",
            "application/merge-patch+json", "application/problem+json", "APPLICATION/JSON", "application/json;;;=", "application/",
            "*/*", "", "json", "application/json\u0001", "text/json")));

    /// <summary>Odd headers, plus an Idempotency-Key on most writes so the money operations get past their key check.</summary>
    private static Gen<IReadOnlyList<(string Name, string Value)>> Headers(string method)
    {
        var odd = Gen.OneOf<(string, string)>(
            IdempotencyKey().Select(v => ("Idempotency-Key", v)),
            ETagGarbage().Select(v => ("If-Match", v)),
            ETagGarbage().Select(v => ("If-None-Match", v)),
            Gen.OneOf(new string('r', 300), "../../etc", "id\u0001x", "日本", "", " ", "valid-id-123", "a,b", new string('r', 128)).Select(v => ("X-Request-Id", v)),
            Gen.OneOf("application/xml", "text/html", "*/*", "garbage/", "", "application/json;q=0").Select(v => ("Accept", v)),
            Gen.OneOf("gw_", "gw_" + new string('k', 200), "nope", "gw_\u0000", "gw_😀").Select(v => ("X-API-Key", v)),
            Gen.OneOf("https://evil.example", "null", "").Select(v => ("Origin", v)),
            Gen.OneOf("gzip", "br;q=x", "\u00ff").Select(v => ("Accept-Encoding", v)),
            Gen.OneOf("bytes=0-1", "bytes=x", "").Select(v => ("Range", v)));
        var oddHeaders = Gen.Frequency<(string, string)[]>(
            (4, Gen.Const(Array.Empty<(string, string)>())),
            (3, new GenArray<(string, string)>(odd)[1, 3]));
        var write = method is "POST" or "PATCH" or "DELETE" or "PUT";
        var key = write
            ? Gen.Frequency<(string, string)[]>((2, Gen.Const(Array.Empty<(string, string)>())), (3, Gen.Guid.Select(g => new[] { ("Idempotency-Key", g.ToString()) })))
            : Gen.Const(Array.Empty<(string, string)>());
        return Gen.Select(key, oddHeaders, (k, o) => (IReadOnlyList<(string Name, string Value)>)[.. k, .. o]);
    }

    private static Gen<string> IdempotencyKey() => Gen.Frequency<string>(
        (2, Gen.Guid.Select(g => g.ToString())),
        // A few shared keys: replays, and the same key with another body or on another operation.
        (2, Gen.Int[0, 3].Select(n => string.Create(CultureInfo.InvariantCulture, $"fuzz-key-{n}"))),
        (3, Gen.OneOf(
            new string('k', 300), new string('k', 10_000), "", " ", "key\u0001ctl", "key\u007fdel", "key\u0000nul", "ключ", "😀",
            "a,b", "\"quoted\"", "key with spaces", "\t")));

    private static Gen<string> ETagGarbage() => Gen.OneOf(
        "\"v1\"", "\"v2\"", "*", "W/\"v1\"", "garbage", "\"v99999999999\"", "\"v-1\"", "\"v\"", "\"\"", "\"v1\", \"v2\"", "\"v0\"",
        "W/", "\"v2147483647\"", "\"v2147483648\"", "\"v1", "v1\"", ",,,", new string('"', 300), "\"v+1\"", "\"v 1\"", "\"v\u0661\"");

    private static Gen<string> DeepNesting() => Gen.Select(
        Gen.Int[20, 400],
        Gen.Bool,
        (depth, array) => array
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));

    /// <summary>A JSON text for <paramref name="schema"/>; with <paramref name="mutate"/>, broken at every level.</summary>
    private Gen<string> Value(JsonObject schema, string name, int depth, bool mutate)
    {
        schema = Resolve(schema);
        Gen<string> typed;
        if (schema["oneOf"] is JsonArray variants)
        {
            var choices = variants.Select(v => Resolve(v!.AsObject())).Where(v => !IsNullType(v)).Select(v => Typed(v, name, depth, mutate)).ToArray();
            typed = choices.Length == 0 ? Gen.Const("null") : Gen.OneOf<string>(choices);
        }
        else
        {
            typed = Typed(schema, name, depth, mutate);
        }

        return mutate
            ? Gen.Frequency<string>((14, typed), (1, Gen.Const("null")), (2, Gen.OneOf(WrongTypes)), (1, DeepNesting()))
            : typed;
    }

    private Gen<string> Typed(JsonObject schema, string name, int depth, bool mutate)
    {
        if (schema["enum"] is JsonArray values)
        {
            var declared = values.Select(v => v!.ToJsonString()).ToArray();
            return mutate
                ? Gen.Frequency<string>((4, Gen.OneOf(declared)), (1, Gen.OneOf("\"ADMIN\"", "\"root\"", "\"\"", "2", "-1", "\"user \"", "\"Admin\"", "\"0\"")))
                : Gen.OneOf(declared);
        }

        var type = TypeOf(schema);
        var format = schema["format"]?.GetValue<string>();
        return (type, format) switch
        {
            ("string", "uuid") => Uuid(name, mutate),
            (_, "date-time") => mutate ? Gen.OneOf(Dates) : Gen.OneOf("\"@@tomorrow@@\"", "\"2031-06-01T12:00:00Z\""),
            ("string", _) => Text(name, mutate),
            ("integer", _) => mutate
                ? Gen.Frequency<string>((3, Gen.Int[1, 1_000].Select(Number)), (3, Gen.OneOf(Integers)), (1, Gen.Long.Select(Number)))
                : Gen.Int[1, 1_000].Select(Number),
            ("number", _) => Gen.OneOf(Integers),
            ("boolean", _) => mutate ? Gen.OneOf("true", "false", "\"true\"", "1", "0") : Gen.OneOf("true", "false"),
            ("array", _) => ArrayOf(schema["items"]?.AsObject() ?? [], name, depth, mutate),
            ("object", _) or (null, null) when schema["properties"] is JsonObject => ObjectOf(schema, depth, mutate),
            _ => Gen.OneOf(WrongTypes),
        };
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private Gen<string> ArrayOf(JsonObject items, string name, int depth, bool mutate)
    {
        var item = Value(items, name, depth + 1, mutate);
        var length = mutate ? Gen.Frequency<int>((6, Gen.Int[0, 3]), (1, Gen.Int[50, 300])) : Gen.Int[1, 3];
        return new GenArray<string>(item)[length].Select(elements => "[" + string.Join(',', elements) + "]");
    }

    private Gen<string> ObjectOf(JsonObject schema, int depth, bool mutate)
    {
        if (depth > 4)
        {
            return Gen.Const("{}");
        }

        var members = new List<Gen<string?>>();
        foreach (var (name, property) in schema["properties"]!.AsObject())
        {
            var value = Value(property!.AsObject(), name, depth + 1, mutate);
            var member = value.Select(v => (string?)$"{Quote(name)}:{v}");
            members.Add(mutate
                ? Gen.Frequency<string?>(
                    (12, member),
                    (1, Gen.Const((string?)null)),
                    (1, Gen.Select(value, value, (a, b) => (string?)$"{Quote(name)}:{a},{Quote(name)}:{b}")),
                    (1, value.Select(v => (string?)$"{Quote(name.ToUpperInvariant())}:{v}")))
                : member);
        }

        if (mutate)
        {
            members.Add(Gen.Frequency<string?>(
                (6, Gen.Const((string?)null)),
                (1, Gen.Select(Gen.OneOf(ExtraPropertyNames), Gen.OneOf(WrongTypes), (n, v) => (string?)$"{Quote(n)}:{v}")),
                (1, Gen.OneOf(RawEscapes).Select(escape => (string?)$"\"{escape}\":1")),
                (1, Gen.Select(Gen.OneOf(300, 100_000), n => (string?)$"{Quote(new string('p', n))}:1"))));
        }

        return Sequence(members).Select(parts => "{" + string.Join(',', parts.Where(p => p is not null)) + "}");
    }

    private static Gen<string> Uuid(string name, bool mutate)
    {
        var real = name.Contains("account", StringComparison.OrdinalIgnoreCase) ? AccountTokens
            : name.Contains("user", StringComparison.OrdinalIgnoreCase) || name.Contains("owner", StringComparison.OrdinalIgnoreCase) ? UserTokens
            : AllTokens;
        var good = Gen.OneOf(real).Select(Quote);
        return mutate
            ? Gen.Frequency<string>(
                (5, good),
                (1, Gen.OneOf(AllTokens).Select(Quote)),
                (2, Gen.Guid.Select(g => Quote(g.ToString()))),
                (2, Gen.OneOf("", "not-a-guid", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "{}", "@@user@@x").Select(Quote)),
                (1, Gen.Guid.Select(g => Quote(g.ToString("N")))),
                (1, Gen.OneOf("12345", "[\"@@account@@\"]", "{\"id\":\"@@account@@\"}")))
            : good;
    }

    /// <summary>A JSON string literal: plausible for the field, hostile unicode, raw escapes, or very long.</summary>
    private static Gen<string> Text(string name, bool mutate)
    {
        var plausible = Plausible(name);
        if (!mutate)
        {
            return plausible.Select(Quote);
        }

        return Gen.Frequency<string>(
            (6, plausible.Select(Quote)),
            (3, Gen.OneOf(Specials).Select(Quote)),
            (2, Gen.Select(plausible, Gen.OneOf(RawEscapes), Gen.Int[0, 2], (text, escape, where) => where switch
            {
                0 => $"\"{escape}{Escape(text)}\"",
                1 => $"\"{Escape(text)}{escape}\"",
                _ => $"\"{Escape(text[..(text.Length / 2)])}{escape}{Escape(text[(text.Length / 2)..])}\"",
            })),
            (2, Gen.String[Gen.Char, 0, 40].Select(Quote)),
            (1, Gen.Select(Gen.OneOf(201, 256, 1_001, 5_000, 50_001, 100_000), Gen.OneOf("a", "é", "😀", "e\u0301", " "), (length, unit) =>
                Quote(string.Concat(Enumerable.Repeat(unit, length / unit.Length))))));
    }

    /// <summary>Plausible raw text by field name, so some requests get past validation into the handlers.</summary>
    private static Gen<string> Plausible(string name) => name.ToUpperInvariant() switch
    {
        var n when n.Contains("EMAIL", StringComparison.Ordinal) => Gen.Frequency<string>(
            (3, Gen.Int[0, 1_000_000].Select(i => string.Create(CultureInfo.InvariantCulture, $"fuzz{i}@example.com"))),
            (1, Gen.Const("@@userEmail@@")),
            (2, Gen.OneOf(
                "a@b", "no-at-sign", "@example.com", "x@", "A@EXAMPLE.COM", "a b@example.com", "x@example..com", "\"q\"@example.com",
                "user@[127.0.0.1]", "用户@例子.广告", new string('a', 64) + "@" + new string('b', 250) + ".com", "a@b@c.com",
                "x@example.com\u0000", "x+tag@example.com", string.Concat(Enumerable.Repeat("a.", 5_000)) + "@example.com"))),
        var n when n.Contains("PASSWORD", StringComparison.Ordinal) => Gen.OneOf(
            "correct-horse-battery", "short", "a-long-enough-password", "            ", "пароль-пароль-пароль", new string('p', 72),
            new string('p', 73), new string('é', 40), new string('p', 1_000), "😀😀😀😀😀😀😀😀😀😀😀😀"),
        var n when n.Contains("CURRENCY", StringComparison.Ordinal) => Gen.OneOf("EUR", "EUR", "USD", "GBP", "XXX", "eur", "EURO", "", "€", "E U"),
        var n when n.Contains("TOKEN", StringComparison.Ordinal) => Gen.Frequency<string>(
            (1, Gen.Const("@@refresh@@")),
            (2, Gen.OneOf("garbage", "", "rt_x", new string('t', 500), "@@refresh@@x"))),
        var n when n.Contains("SCOPE", StringComparison.Ordinal) => Gen.OneOf(
            "users:read", "users:write", "posts:read", "posts:write", "orders:read", "orders:write", "accounts:read", "transfers:write",
            "admin:all", "users:*", "", "USERS:READ", "users:read "),
        _ => Gen.OneOf("Fuzz", "x", "Hello world", "Ünïcödé", "A title", "SKU-1", "Widget", "rent", "  padded  "),
    };

    /// <summary>Escapes what JSON requires plus surrogates and controls; everything else goes out as raw UTF-8.</summary>
    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 2);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                _ when c < 0x20 || char.IsSurrogate(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }

    private static string Quote(string text) => "\"" + Escape(text) + "\"";

    private static Gen<T[]> Sequence<T>(IEnumerable<Gen<T>> gens) =>
        gens.Aggregate(Gen.Const(Array.Empty<T>()), (all, next) => Gen.Select(all, next, (values, value) => (T[])[.. values, value]));

    private JsonObject Resolve(JsonObject schema)
    {
        while (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            var name = reference[(reference.LastIndexOf('/') + 1)..];
            schema = _document["components"]!["schemas"]![name]!.AsObject();
        }

        return schema;
    }

    private static bool IsNullType(JsonObject schema) => TypeOf(schema) == "null" && schema["properties"] is null;

    /// <summary>The schema's one non-null type (OpenAPI 3.1 writes nullable as <c>["null", "string"]</c>).</summary>
    private static string? TypeOf(JsonObject schema) => schema["type"] switch
    {
        JsonArray types => types.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t != "null") ?? "null",
        JsonValue type => type.GetValue<string>(),
        _ => null,
    };
}
