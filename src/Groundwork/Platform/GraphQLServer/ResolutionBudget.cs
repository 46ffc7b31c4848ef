using GraphQL;
using GraphQL.Execution;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// What one GraphQL request may resolve, counted while it runs: objects (every object the response will hold)
/// and characters of text. The cost estimate refuses most expensive documents before they run; this is the hard
/// stop for whatever the estimate misjudges (docs/adr/0009-resolved-object-cap.md). Spending past either bound
/// cancels the execution, and the request is answered with one error instead of the data.
/// </summary>
public sealed class ResolutionBudget(int maxObjects, long maxTextChars, CancellationToken requestAborted) : IDisposable
{
    private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
    private int _objects;
    private long _textChars;

    /// <summary>The token execution runs under: the request's, cancelled early when the budget runs out.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>The error that stopped the request, once the budget ran out.</summary>
    public Error? Exceeded { get; private set; }

    /// <summary>Characters of text the response may still hold.</summary>
    public long TextCharsLeft => Math.Max(0, maxTextChars - _textChars);

    public void SpendObject()
    {
        if (++_objects > maxObjects)
        {
            Refuse(Error.Validation("query", $"The query resolves more than {maxObjects} objects; ask for fewer (smaller limit or first, fewer nested lists)"));
        }
    }

    public void SpendText(int chars)
    {
        _textChars += chars;
        if (_textChars > maxTextChars)
        {
            Refuse(Error.Validation("query", $"The response would exceed {maxTextChars} characters of text; ask for fewer or smaller fields"));
        }
    }

    /// <summary>
    /// Stops the request with <paramref name="error"/> as its one answer, as an exceeded cap does: for a refusal found
    /// before the objects are resolved (a batch that would hold more than the response may carry).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public void Refuse(Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (Exceeded is null)
        {
            Exceeded = error;
            _stop.Cancel();
        }

        // Unwind the node that overspent at once; the cancelled token stops the rest.
        throw new OperationCanceledException(_stop.Token);
    }

    /// <summary>
    /// The answer to a request (or a subscription's event) the budget stopped: the one error, no data. Root mutation
    /// fields that ran before the stop (<paramref name="applied"/>) are committed: the error names them, in its text
    /// and in <c>extensions.applied</c>, so a client knows its changes stand and how to read their result.
    /// </summary>
    public ExecutionResult StoppedAnswer(IReadOnlyList<string>? applied = null)
    {
        if (Exceeded is not { } exceeded)
        {
            throw new InvalidOperationException("The budget has not stopped anything");
        }

        var error = applied is { Count: > 0 }
            ? new OperationException(exceeded with
            {
                Details =
                [
                    .. exceeded.Details ?? [],
                    new FieldError("query", $"Applied before the stop, and not undone: {string.Join(", ", applied)}. Only the answer is lost: "
                        + "query the changed objects, or send such a field again, alone, with the same idempotency key (where it takes one) and a smaller selection to have its result replayed"),
                ],
            })
            : new OperationException(exceeded);
        if (applied is { Count: > 0 })
        {
            error.Data[GraphQLErrors.AppliedKey] = applied.ToArray();
        }

        return new ExecutionResult { Executed = true, Errors = [error] };
    }

    public void Dispose() => _stop.Dispose();
}

/// <summary>
/// Serial execution (see <see cref="GraphQLExecution"/>) that charges every object it is about to fill in to the
/// request's <see cref="ResolutionBudget"/>. Objects are counted where their fields are laid out, which also
/// covers objects that arrive through batch loaders.
/// </summary>
public class BudgetedSerialExecutionStrategy : SerialExecutionStrategy
{
    public static new BudgetedSerialExecutionStrategy Instance { get; } = new();

    protected override void SetSubFieldNodes(GraphQL.Execution.ExecutionContext context, ObjectExecutionNode parent)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.UserContext is GraphQLRequestContext { Budget: { } budget })
        {
            budget.SpendObject();
        }

        base.SetSubFieldNodes(context, parent);
    }
}

/// <summary>
/// Mutations: <see cref="BudgetedSerialExecutionStrategy"/>, one root field at a time with the whole of its answer.
/// The serial strategy alone holds back every field that loads through a batch loader until all other pending fields
/// have run, later root fields included: <c>a: createPost { author { name } } b: createAccount</c> would create the
/// account before the post's author was resolved. Here each root field (its change, then its answer) completes before
/// the next one starts, as GraphQL's serial execution of mutations requires, so when the resolution budget stops an
/// answer no later root field has changed anything (<see cref="ResolutionBudget.StoppedAnswer"/> names the earlier ones).
/// </summary>
public sealed class BudgetedMutationExecutionStrategy : BudgetedSerialExecutionStrategy
{
    public static new BudgetedMutationExecutionStrategy Instance { get; } = new();

    public override async Task ExecuteNodeTreeAsync(GraphQL.Execution.ExecutionContext context, ExecutionNode rootNode)
    {
        if (rootNode is not RootExecutionNode root)
        {
            await base.ExecuteNodeTreeAsync(context, rootNode);
            return;
        }

        var fields = new List<ExecutionNode>();
        root.ApplyToChildren((field, list) => list.Add(field), fields);
        foreach (var field in fields)
        {
            await base.ExecuteNodeTreeAsync(context, field);
        }
    }
}
