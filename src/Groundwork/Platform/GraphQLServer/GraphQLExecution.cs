using GraphQL;
using GraphQL.Execution;
using GraphQL.SystemTextJson;
using GraphQL.Types;
using GraphQL.Validation;
using GraphQLParser.AST;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;
using Microsoft.Extensions.Caching.Memory;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>A request's document, parsed, and whether the same text already passed validation.</summary>
public sealed record ParsedDocument(string Text, GraphQLDocument Document, bool Validated);

/// <summary>
/// The schema and the executer, built once. Execution is serial for queries as for mutations: resolvers share
/// the request's DbContext, which is not thread-safe, and batching (not parallelism) is what keeps related
/// objects cheap.
/// </summary>
public sealed class GraphQLExecution : IDisposable
{
    /// <summary>
    /// Characters of document text kept with their parsed and validated documents. Clients send the same few
    /// documents again and again; distinct ones past this bound are parsed and validated every time, as before.
    /// </summary>
    internal const long ValidatedDocumentsChars = 512 * 1024;

    private readonly DocumentExecuter _executer;
    private readonly IValidationRule[] _rules;
    private readonly IValidationRule[] _rulesForValidatedDocuments;
    private readonly MemoryCache _validatedDocuments = new(new MemoryCacheOptions { SizeLimit = ValidatedDocumentsChars });

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
        _rulesForValidatedDocuments = [.. GraphQLLimits.RulesThatReadVariables()];
        _rules = [.. DocumentValidator.CoreRules, .. GraphQLLimits.DocumentRules(environment.IsProduction()), .. _rulesForValidatedDocuments];
        // The same escaping as REST (Json.Configure): text is written as itself, so the text budget bounds the bytes.
        Serializer = new GraphQLSerializer(o => o.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, new GraphQLErrors());
    }

    public ISchema Schema { get; }

    public GraphQLSerializer Serializer { get; }

    /// <summary>The schema in SDL, as committed in api/schema.graphql (a test keeps the two equal).</summary>
    public string PrintSchema() => Schema.Print(new GraphQL.Utilities.PrintOptions { IncludeDescriptions = true }).ReplaceLineEndings("\n").TrimEnd() + "\n";

    /// <summary>Documents parsed and validated since the start (for tests and diagnostics).</summary>
    internal int ValidatedDocumentCount => _validatedDocuments.Count;

    /// <summary>
    /// The parsed document for this text: the one kept when the same text passed validation before, or a new parse.
    /// Throws <see cref="GraphQLParser.Exceptions.GraphQLParserException"/> for a document that cannot be parsed.
    /// </summary>
    public ParsedDocument Parse(string text) =>
        _validatedDocuments.TryGetValue(text, out GraphQLDocument? known) && known is not null
            ? new ParsedDocument(text, known, Validated: true)
            : new ParsedDocument(text, GraphQLParser.Parser.Parse(text), Validated: false);

    /// <summary>
    /// Runs a parsed document under the request's <see cref="ResolutionBudget"/>. A document whose text passed
    /// validation before skips the rules that read only the document (the same text gives the same answer); the
    /// ones that read variables (the cost of the lists asked for) run on every request, and so do the coercion of
    /// the variables and the checks of every argument's range.
    /// </summary>
    public async Task<ExecutionResult> ExecuteAsync(
        ParsedDocument document,
        string? operationName,
        Inputs? variables,
        Inputs? extensions,
        GraphQLRequestContext context,
        IServiceProvider services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(context);
        using var budget = new ResolutionBudget(_settings.GraphQLMaxResolvedObjects, _settings.GraphQLMaxResponseChars, cancellationToken);
        context.Budget = budget;
        try
        {
            var result = await _executer.ExecuteAsync(new ExecutionOptions
            {
                Schema = Schema,
                Document = document.Document,
                OperationName = operationName,
                Variables = variables,
                Extensions = extensions,
                UserContext = context,
                RequestServices = services,
                ValidationRules = document.Validated ? _rulesForValidatedDocuments : _rules,
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
            if (result.Executed && !document.Validated)
            {
                // Executed: it passed validation. Kept by its text, priced by its length, so the bound holds
                // whatever documents clients send (an entry past the bound is not kept).
                _validatedDocuments.Set(document.Text, document.Document, new MemoryCacheEntryOptions { Size = Math.Max(1, document.Text.Length) });
            }

            return result;
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

    public void Dispose() => _validatedDocuments.Dispose();
}
