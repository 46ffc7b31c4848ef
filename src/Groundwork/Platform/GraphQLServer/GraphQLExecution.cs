using GraphQL;
using GraphQL.Execution;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;

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

    private readonly GroundworkSettings _settings;

    public GraphQLExecution(IHostEnvironment environment, GroundworkSettings settings, IEnumerable<IFeatureModule> features)
    {
        ArgumentNullException.ThrowIfNull(environment);
        _settings = settings;
        Schema = new GroundworkSchema(features);
        Schema.Initialize();
        _executer = new DocumentExecuter(
            new GraphQLDocumentBuilder(),
            new DocumentValidator(),
            new DefaultExecutionStrategySelector(
            [
                new ExecutionStrategyRegistration(BudgetedSerialExecutionStrategy.Instance, OperationType.Query),
                new ExecutionStrategyRegistration(BudgetedSerialExecutionStrategy.Instance, OperationType.Mutation),
                new ExecutionStrategyRegistration(new SubscriptionExecutionStrategy(), OperationType.Subscription),
            ]),
            []);
        _rules = [.. DocumentValidator.CoreRules, .. GraphQLLimits.Rules(environment.IsProduction())];
        // The same escaping as REST (Json.Configure): text is written as itself, so the text budget bounds the bytes.
        Serializer = new GraphQLSerializer(o => o.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, new GraphQLErrors());
    }

    public ISchema Schema { get; }

    public GraphQLSerializer Serializer { get; }

    /// <summary>The schema in SDL, as committed in api/schema.graphql (a test keeps the two equal).</summary>
    public string PrintSchema() => Schema.Print(new GraphQL.Utilities.PrintOptions { IncludeDescriptions = true }).ReplaceLineEndings("\n").TrimEnd() + "\n";

    /// <summary>Runs a parsed document under the request's <see cref="ResolutionBudget"/>.</summary>
    public async Task<ExecutionResult> ExecuteAsync(
        GraphQLDocument document,
        string? operationName,
        Inputs? variables,
        Inputs? extensions,
        GraphQLRequestContext context,
        IServiceProvider services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var budget = new ResolutionBudget(_settings.GraphQLMaxResolvedObjects, _settings.GraphQLMaxResponseChars, cancellationToken);
        context.Budget = budget;
        try
        {
            return await _executer.ExecuteAsync(new ExecutionOptions
            {
                Schema = Schema,
                Document = document,
                OperationName = operationName,
                Variables = variables,
                Extensions = extensions,
                UserContext = context,
                RequestServices = services,
                ValidationRules = _rules,
                CancellationToken = budget.Token,
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
        catch (OperationCanceledException) when (budget.Exceeded is { } exceeded && !cancellationToken.IsCancellationRequested)
        {
            // Whatever was resolved so far is dropped: the answer is the one error, small whatever was asked.
            return new ExecutionResult { Executed = true, Errors = [new OperationException(exceeded)] };
        }
        finally
        {
            context.Budget = null;
        }
    }
}
