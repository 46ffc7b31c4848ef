using Groundwork.Tests.Infrastructure;
using GraphQL;
using GraphQL.Types;
using GraphQLParser.AST;
using Groundwork.Platform.GraphQLServer;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace Groundwork.Tests.Transports;

/// <summary>The contract side of GraphQL: the committed SDL, the seed schema verbatim, introspection off in Production.</summary>
public sealed class GraphQLSchemaTests
{
    private static GraphQLExecution Execution(string environment) =>
        new(new Environment(environment), Groundwork.Platform.Configuration.GroundworkSettings.Load(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), environment: "Testing"), Groundwork.App.FeatureModules.All);

    [Fact]
    public void The_committed_api_schema_graphql_is_the_schema_the_server_serves()
    {
        var committed = File.ReadAllText(RepoFiles.PathOf("api", "schema.graphql")).ReplaceLineEndings("\n");
        using var execution = Execution("Testing");
        var served = execution.PrintSchema();
        Assert.True(committed == served,
            "api/schema.graphql is stale; regenerate it with: dotnet run --project src/Groundwork --no-launch-profile -- print-graphql-schema > api/schema.graphql");
    }

    [Fact]
    public void Every_type_field_argument_default_and_enum_value_of_the_seed_schema_is_served_exactly()
    {
        var seed = GraphQLParser.Parser.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Transports", "seed-schema.graphql")));
        using var execution = Execution("Testing");
        var served = GraphQLParser.Parser.Parse(execution.PrintSchema());
        var servedTypes = served.Definitions.OfType<GraphQLTypeDefinition>().ToDictionary(t => t.Name.StringValue);
        var checkedMembers = 0;
        foreach (var type in seed.Definitions.OfType<GraphQLTypeDefinition>())
        {
            Assert.True(servedTypes.TryGetValue(type.Name.StringValue, out var ours), $"type {type.Name.StringValue} is missing");
            Assert.Equal(type.Kind, ours.Kind);
            var expected = Members(type);
            var actual = Members(ours).ToDictionary(m => m.Name, m => m.Signature);
            foreach (var (name, signature) in expected)
            {
                Assert.True(actual.TryGetValue(name, out var servedSignature), $"{type.Name.StringValue}.{name} is missing");
                Assert.Equal(signature, servedSignature);
                checkedMembers++;
            }
        }

        Assert.Equal(38, checkedMembers); // 9 types: 7 + 3 + 6 + 4 + 4 + 4 + 3 + 3 + 4 members
    }

    [Fact]
    public async Task Introspection_is_refused_in_Production_and_answered_elsewhere()
    {
        const string query = "{ __schema { queryType { name } } }";
        using var inProduction = Execution("Production");
        for (var attempt = 0; attempt < 2; attempt++)
        {
            // Refused every time: only a document that passed validation is kept, and a kept one skips the check.
            var production = await Run(inProduction, query);
            var error = Assert.Single(production.Errors!);
            Assert.Contains("introspection", error.Message, StringComparison.OrdinalIgnoreCase);
        }

        using var inTesting = Execution("Testing");
        var testing = await Run(inTesting, query);
        Assert.Null(testing.Errors);
    }

    [Fact]
    public async Task The_introspection_query_an_IDE_sends_is_answered_and_nested_introspection_is_priced_past_the_limit()
    {
        var standard = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Transports", "introspection-query.graphql"));
        using var execution = Execution("Development");
        var answer = await Run(execution, standard);
        Assert.Null(answer.Errors);
        var schema = System.Text.Json.Nodes.JsonNode.Parse(new GraphQL.SystemTextJson.GraphQLSerializer().Serialize(answer))!["data"]!["__schema"]!;
        Assert.Equal("Query", schema["queryType"]!["name"]!.GetValue<string>());
        var typeNames = schema["types"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("User", typeNames);
        Assert.Contains("Transaction", typeNames);
        var user = schema["types"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "User")!;
        Assert.Contains(user["fields"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "email");

        // Each level of fields { type { … } } multiplies by the most fields any type has.
        const string nested = "{ __type(name: \"User\") { fields { type { fields { type { fields { type { fields { type { fields { name } } } } } } } } } } }";
        var refused = await Run(execution, nested);
        var error = Assert.Single(refused.Errors!);
        Assert.Contains("too complex", error.Message, StringComparison.Ordinal);
        Assert.Null(refused.Data);
    }

    private static Task<ExecutionResult> Run(GraphQLExecution execution, string query) =>
        execution.ExecuteAsync(execution.ParseOrReuse(query), null, null, null, new GraphQLRequestContext(Groundwork.Platform.Operations.Caller.Anonymous),
            new EmptyServices(), CancellationToken.None);

    private static IEnumerable<(string Name, string Signature)> Members(GraphQLTypeDefinition type) => type switch
    {
        GraphQLObjectTypeDefinition o => o.Fields!.Items.Select(f => (f.Name.StringValue, $"{f.Name.StringValue}{Arguments(f.Arguments)}: {TypeName(f.Type)}")),
        GraphQLInputObjectTypeDefinition i => i.Fields!.Items.Select(f => (f.Name.StringValue, Input(f))),
        GraphQLEnumTypeDefinition e => e.Values!.Items.Select((v, index) => (v.Name.StringValue, $"{v.Name.StringValue}@{index}")),
        _ => [],
    };

    private static string Arguments(GraphQLArgumentsDefinition? arguments) =>
        arguments is null || arguments.Items.Count == 0 ? "" : "(" + string.Join(", ", arguments.Items.Select(Input)) + ")";

    private static string Input(GraphQLInputValueDefinition value) =>
        $"{value.Name.StringValue}: {TypeName(value.Type)}{(value.DefaultValue is null ? "" : " = " + Literal(value.DefaultValue))}";

    private static string TypeName(GraphQLType type) => type switch
    {
        GraphQLNonNullType n => TypeName(n.Type) + "!",
        GraphQLListType l => "[" + TypeName(l.Type) + "]",
        GraphQLNamedType t => t.Name.StringValue,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static string Literal(GraphQLValue value) => value switch
    {
        GraphQLIntValue i => i.Value.ToString(),
        GraphQLBooleanValue b => b.Value.ToString(),
        GraphQLEnumValue e => e.Name.StringValue,
        GraphQLStringValue s => "\"" + s.Value.ToString() + "\"",
        _ => value.Kind.ToString(),
    };

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "groundwork";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(Microsoft.Extensions.Logging.ILogger<GraphQLExecution>)
                ? Microsoft.Extensions.Logging.Abstractions.NullLogger<GraphQLExecution>.Instance
                : null;
    }
}
