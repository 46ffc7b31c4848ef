using Groundwork.Features.Ledger;

namespace Groundwork.Tests.Money;

/// <summary>The per-account queue in front of the row locks: first come first served, never a hang, nothing left behind.</summary>
public sealed class AccountQueueTests
{
    private static readonly Guid A = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    private static readonly Guid B = Guid.Parse("00000000-0000-0000-0000-00000000000b");
    private static readonly Guid C = Guid.Parse("00000000-0000-0000-0000-00000000000c");

    [Fact]
    public async Task Movements_on_an_account_take_their_turns_in_the_order_they_came()
    {
        var queue = new AccountQueue(TimeSpan.FromMinutes(5));
        var first = await queue.EnterAsync(A, B, TestContext.Current.CancellationToken);
        var order = new List<int>();
        var waiting = new List<Task>();
        for (var i = 0; i < 10; i++)
        {
            var n = i;
            // Alternate directions: the queue enters both accounts in id order whichever way the money goes.
            var (from, to) = n % 2 == 0 ? (A, B) : (B, A);
            var entered = queue.EnterAsync(from, to, TestContext.Current.CancellationToken);
            waiting.Add(entered.ContinueWith(t =>
            {
                lock (order)
                {
                    order.Add(n);
                }

                t.Result.Dispose();
            }, TaskScheduler.Default));
            Assert.False(entered.IsCompleted);
        }

        first.Dispose();
        await Task.WhenAll(waiting);
        Assert.Equal(Enumerable.Range(0, 10), order);
        Assert.Equal(0, queue.ActiveAccounts);
    }

    [Fact]
    public async Task Movements_on_other_accounts_do_not_wait()
    {
        var queue = new AccountQueue(TimeSpan.FromMinutes(5));
        using var held = await queue.EnterAsync(A, B, TestContext.Current.CancellationToken);
        await EnterAtOnceAndLeaveAsync(queue, C, Guid.NewGuid());
        Assert.Equal(2, queue.ActiveAccounts);
    }

    [Fact]
    public async Task A_turn_held_too_long_is_passed_by_and_released_turns_leave_nothing_behind()
    {
        var queue = new AccountQueue(TimeSpan.FromMilliseconds(50));
        var held = await queue.EnterAsync(B, C, TestContext.Current.CancellationToken);

        // A then B: A is entered, B is not given within the wait, so the movement goes on without a turn (the row
        // locks still order it) and gives back the one it had. (The outcome is the same however slow the machine.)
        var passed = await queue.EnterAsync(A, B, TestContext.Current.CancellationToken);
        await EnterAtOnceAndLeaveAsync(queue, A, Guid.NewGuid());
        passed.Dispose();
        held.Dispose();
        Assert.Equal(0, queue.ActiveAccounts);

        // The passed-by turn held nothing: giving it back again leaves the queue as it was.
        passed.Dispose();
        Assert.Equal(0, queue.ActiveAccounts);
        await EnterAtOnceAndLeaveAsync(queue, A, B);
        Assert.Equal(0, queue.ActiveAccounts);
    }

    [Fact]
    public async Task A_turn_given_back_twice_is_given_back_once()
    {
        // A long wait, so that "still waiting" below cannot be a bypass on a slow machine.
        var queue = new AccountQueue(TimeSpan.FromMinutes(5));
        var first = await queue.EnterAsync(A, B, TestContext.Current.CancellationToken);
        first.Dispose();
        using var again = await queue.EnterAsync(A, B, TestContext.Current.CancellationToken);

        // A second give-back of the first turn must not free B under the second.
        first.Dispose();
        var blocked = queue.EnterAsync(B, C, TestContext.Current.CancellationToken);
        Assert.False(blocked.IsCompleted);
        again.Dispose();
        (await blocked).Dispose();
        Assert.Equal(0, queue.ActiveAccounts);
    }

    [Fact]
    public async Task The_same_account_twice_is_entered_once()
    {
        var queue = new AccountQueue(TimeSpan.FromMinutes(5));
        var same = queue.EnterAsync(A, A, TestContext.Current.CancellationToken);
        Assert.True(same.IsCompletedSuccessfully);
        var next = queue.EnterAsync(A, B, TestContext.Current.CancellationToken);
        Assert.False(next.IsCompleted);
        (await same).Dispose();
        (await next).Dispose();
        Assert.Equal(0, queue.ActiveAccounts);
    }

    [Fact]
    public async Task A_cancelled_wait_gives_back_what_it_took()
    {
        var queue = new AccountQueue(TimeSpan.FromMinutes(5));
        var held = await queue.EnterAsync(B, C, TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource();
        var waiting = queue.EnterAsync(A, B, cancel.Token);
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();
        Assert.Equal(0, queue.ActiveAccounts);

        // A's turn was given back: a later movement gets it at once.
        await EnterAtOnceAndLeaveAsync(queue, A, C);
    }

    /// <summary>Enters <paramref name="from"/> and <paramref name="to"/>, asserting that nothing made it wait, and leaves.</summary>
    private static async Task EnterAtOnceAndLeaveAsync(AccountQueue queue, Guid from, Guid to)
    {
        var entered = queue.EnterAsync(from, to, TestContext.Current.CancellationToken);
        Assert.True(entered.IsCompletedSuccessfully, "the turn was not given at once");
        (await entered).Dispose();
    }
}
