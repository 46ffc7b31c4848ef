using GraphQL;
using GraphQL.Execution;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// The schema and the executer, built once. Execution is serial for queries as for mutations: resolvers share
/// the request's DbContext, which is not thread-safe, and batching (not parallelism) is what keeps related
/// objects cheap.
/// </summary>
public sealed class GraphQLExecution
{
    private readonly DocumentExecuter _executer;
    private readonly IValidationRule[] _rules;

    public GraphQLExecution(IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Schema = new GroundworkSchema();
        Schema.Initialize();
        _executer = new DocumentExecuter(
            new GraphQLDocumentBuilder(),
            new DocumentValidator(),
            new DefaultExecutionStrategySelector(
            [
                new ExecutionStrategyRegistration(SerialExecutionStrategy.Instance, OperationType.Query),
                new ExecutionStrategyRegistration(SerialExecutionStrategy.Instance, OperationType.Mutation),
            ]),
            []);
        _rules = [.. DocumentValidator.CoreRules, .. GraphQLLimits.Rules(environment.IsProduction())];
        Serializer = new GraphQLSerializer(new GraphQLErrors());
    }

    public ISchema Schema { get; }

    public GraphQLSerializer Serializer { get; }

    /// <summary>The schema in SDL, as committed in api/schema.graphql (a test keeps the two equal).</summary>
    public string PrintSchema() => Schema.Print(new GraphQL.Utilities.PrintOptions { IncludeDescriptions = true }).ReplaceLineEndings("\n").TrimEnd() + "\n";

    public Task<ExecutionResult> ExecuteAsync(
        GraphQLDocument? document,
        string query,
        string? operationName,
        Inputs? variables,
        Inputs? extensions,
        GraphQLRequestContext context,
        IServiceProvider services,
        CancellationToken cancellationToken) =>
        _executer.ExecuteAsync(new ExecutionOptions
        {
            Schema = Schema,
            Document = document,
            Query = document is null ? query : null,
            OperationName = operationName,
            Variables = variables,
            Extensions = extensions,
            UserContext = context,
            RequestServices = services,
            ValidationRules = _rules,
            CancellationToken = cancellationToken,
            ThrowOnUnhandledException = false,
            UnhandledExceptionDelegate = ctx =>
            {
                if (ctx.OriginalException is not OperationCanceledException)
                {
                    services.GetRequiredService<ILogger<GraphQLExecution>>()
                        .LogError(ctx.OriginalException, "Unhandled exception in GraphQL field {Field}", ctx.FieldContext?.FieldDefinition.Name);
                }

                return Task.CompletedTask;
            },
        });
}
