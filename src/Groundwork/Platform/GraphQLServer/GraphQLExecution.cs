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

/// <summary>
/// A request's document, parsed, and whether the same text passed validation before (then it is the document kept
/// for that text). Only <see cref="GraphQLExecution.ParseOrReuse"/> makes one, so no caller can claim a pass.
/// </summary>
public sealed class ParsedDocument
{
    internal ParsedDocument(string text, GraphQLDocument document, bool passedBefore)
    {
        Text = text;
        Document = document;
        PassedBefore = passedBefore;
    }

    public string Text { get; }

    public GraphQLDocument Document { get; }

    public bool PassedBefore { get; }
}

/// <summary>
/// The schema and the executer, built once. Execution is serial for queries as for mutations: resolvers share
/// the request's DbContext, which is not thread-safe, and batching (not parallelism) is what keeps related
/// objects cheap.
/// </summary>
public sealed class GraphQLExecution : IDisposable
{
    /// <summary>
    /// The bound on the documents kept, in characters of text, each document counted at no less than
    /// <see cref="MinimumCharsPerDocument"/>: at most 256 documents, and a few MB of parsed documents (a parsed
    /// document takes some ten times its text). Clients send the same few documents again and again; past the bound,
    /// a new one is not kept (and the least used are dropped in the background), and is parsed and validated in
    /// full, as every document was before.
    /// </summary>
    internal const long KeptDocumentsChars = 256 * 1024;

    /// <summary>What a short document counts for, so tiny distinct documents cannot make thousands of entries.</summary>
    internal const int MinimumCharsPerDocument = 1024;

    private readonly DocumentExecuter _executer;
    private readonly IValidationRule[] _rules;
    private readonly IValidationRule[] _rulesForDocumentsThatPassedBefore;
    private readonly MemoryCache _keptDocuments = new(new MemoryCacheOptions { SizeLimit = KeptDocumentsChars });

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
                new ExecutionStrategyRegistration(BudgetedMutationExecutionStrategy.Instance, OperationType.Mutation),
                new ExecutionStrategyRegistration(
                    new BudgetedSubscriptionExecutionStrategy(settings.GraphQLMaxResolvedObjects, settings.GraphQLMaxResponseChars), OperationType.Subscription),
            ]),
            []);
        _rulesForDocumentsThatPassedBefore = [.. GraphQLLimits.RulesThatReadTheRequest()];
        _rules = [.. DocumentValidator.CoreRules, .. GraphQLLimits.RulesThatReadOnlyTheDocument(environment.IsProduction()), .. _rulesForDocumentsThatPassedBefore];
        // The same escaping as REST (Json.Configure): text is written as itself, so the text budget bounds the bytes.
        Serializer = new GraphQLSerializer(o => o.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, new GraphQLErrors());
    }

    public ISchema Schema { get; }

    public GraphQLSerializer Serializer { get; }

    /// <summary>The schema in SDL, as committed in api/schema.graphql (a test keeps the two equal).</summary>
    public string PrintSchema() => Schema.Print(new GraphQL.Utilities.PrintOptions { IncludeDescriptions = true }).ReplaceLineEndings("\n").TrimEnd() + "\n";

    /// <summary>Documents kept now (for tests and diagnostics).</summary>
    internal int KeptDocumentCount => _keptDocuments.Count;

    /// <summary>
    /// The document kept for this text when the same text passed validation before, or a new parse. Throws
    /// <see cref="GraphQLDocumentRefusedException"/> for a document that cannot be parsed or selects too much
    /// (<see cref="GraphQLLimits.MaxSelections"/>), before anything walks it. (GraphQL.NET's own document cache works
    /// inside the executer; the transports need the parsed document before it runs, to count a mutation's root
    /// fields and refuse subscriptions over HTTP.)
    /// </summary>
    public ParsedDocument ParseOrReuse(string text)
    {
        if (_keptDocuments.TryGetValue(text, out GraphQLDocument? kept) && kept is not null)
        {
            return new ParsedDocument(text, kept, passedBefore: true);
        }

        GraphQLDocument document;
        try
        {
            document = GraphQLParser.Parser.Parse(text);
        }
        catch (GraphQLParser.Exceptions.GraphQLParserException e)
        {
            // Syntax errors and documents nested past the parser's depth limit: the message names the position.
            throw new GraphQLDocumentRefusedException(e.Description);
        }

        GraphQLLimits.RefuseIfTooLarge(document);
        return new ParsedDocument(text, document, passedBefore: false);
    }

    /// <summary>
    /// Runs a parsed document under the request's <see cref="ResolutionBudget"/>. A document whose text passed
    /// validation before skips the rules that read only the document (the same text gives the same answer); the
    /// ones that read the request (the cost of the operation chosen, with the list sizes its variables give) run on
    /// every request, and so do GraphQL.NET's coercion of the variables and the checks of every argument's range.
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
                ValidationRules = document.PassedBefore ? _rulesForDocumentsThatPassedBefore : _rules,
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
            if (result.Executed && !document.PassedBefore)
            {
                // Executed: it passed validation. Kept by its text and counted by its length (at least
                // MinimumCharsPerDocument), so the bound holds whatever documents clients send.
                _keptDocuments.Set(document.Text, document.Document, new MemoryCacheEntryOptions { Size = Math.Max(MinimumCharsPerDocument, document.Text.Length) });
            }

            LeaveOutErrorsPastTheCap(result, document);
            NameAppliedMutations(result, context.AppliedMutations);
            return result;
        }
        catch (OperationCanceledException) when (budget.Exceeded is not null && !cancellationToken.IsCancellationRequested)
        {
            // Whatever was resolved so far is dropped: the answer is the one error, small whatever was asked. It names
            // the mutations already applied: their changes stand, only their answer is lost.
            return budget.StoppedAnswer(context.AppliedMutations);
        }
        finally
        {
            context.Budget = null;
        }
    }

    /// <summary>The most errors one answer lists: validation reports one per conflicting pair or repeated directive.</summary>
    internal const int MaxErrors = 100;

    /// <summary>
    /// Past <see cref="MaxErrors"/>, the rest are left out and one last error says how many: an answer stays small
    /// whatever a document makes the validator report (a document under the selection limit could still list
    /// thousands of repeated directives or arguments, each an error).
    /// </summary>
    private static void LeaveOutErrorsPastTheCap(ExecutionResult result, ParsedDocument document)
    {
        if (result.Errors is not { Count: > MaxErrors } errors)
        {
            return;
        }

        var kept = new ExecutionErrors();
        kept.AddRange(errors.Take(MaxErrors));
        kept.Add(new ValidationError(document.Document.Source, "ERRORS_LEFT_OUT", $"{errors.Count - MaxErrors} more errors were left out"));
        result.Errors = kept;
    }

    /// <summary>
    /// A mutation document with errors whose other root fields committed (before the failed one, or after it: every
    /// root field runs): every error names those fields in <c>extensions.applied</c>. Mutation fields are non-null,
    /// so one failing field nulls the whole <c>data</c>, and without this a client could not tell that <c>a</c> in
    /// <c>a: createPost(…) b: createPost(…)</c> was created when <c>b</c> failed (the resolution budget's stopped
    /// answer names them the same way).
    /// </summary>
    private static void NameAppliedMutations(ExecutionResult result, IReadOnlyList<string> applied)
    {
        if (applied.Count == 0 || result.Errors is not { Count: > 0 } errors)
        {
            return;
        }

        var names = applied.ToArray();
        foreach (var error in errors)
        {
            error.Data[GraphQLErrors.AppliedKey] = names;
        }
    }

    public void Dispose() => _keptDocuments.Dispose();
}
