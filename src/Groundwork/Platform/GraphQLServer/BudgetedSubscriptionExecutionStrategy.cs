using GraphQL;
using GraphQL.Execution;

namespace Groundwork.Platform.GraphQLServer;

/// <summary>
/// Subscriptions: each event is resolved as a request of its own, with its own <see cref="ResolutionBudget"/> and
/// batch loaders, serially (the subscription's scope, and so its DbContext, is shared by its events), and one event
/// at a time per subscription: GraphQL.NET starts an event's resolution as soon as it arrives, so without the turn a
/// burst of events would resolve at once on one DbContext. An event that overspends is answered with the one error.
/// The source reads an event only when the subscription has room for it (<see cref="SubscriptionEventRoom"/>, given
/// back when the transport has sent the event's answer), so few ever wait for a turn.
/// </summary>
public sealed class BudgetedSubscriptionExecutionStrategy(int maxObjects, long maxTextChars)
    : SubscriptionExecutionStrategy(BudgetedSerialExecutionStrategy.Instance)
{
    protected override async ValueTask<ExecutionResult> ProcessDataAsync(GraphQL.Execution.ExecutionContext context, ExecutionNode node, object? value)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.UserContext is not GraphQLRequestContext request)
        {
            return await base.ProcessDataAsync(context, node, value);
        }

        await request.EventTurn.WaitAsync(context.CancellationToken);
        try
        {
            using var budget = new ResolutionBudget(maxObjects, maxTextChars, context.CancellationToken);
            request.StartEvent(budget);
            context.CancellationToken = budget.Token;
            var result = await base.ProcessDataAsync(context, node, value);
            return budget.Exceeded is null ? result : budget.StoppedAnswer();
        }
        finally
        {
            request.EndEvent();
            request.EventTurn.Release();
        }
    }
}
