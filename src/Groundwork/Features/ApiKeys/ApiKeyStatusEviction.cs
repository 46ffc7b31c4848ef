using System.Linq.Expressions;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.ApiKeys;

/// <summary>
/// Drops this node's cached answers (<see cref="ApiKeyStatus"/>) for keys a change affects (revoked, owner deleted,
/// owner's role changed) once the pipeline's transaction commits, so the change applies to them at once here and
/// within a second on other nodes.
/// </summary>
public sealed class ApiKeyStatusEviction(GroundworkDbContext db, ApiKeyStatus status, CommitHooks hooks)
{
    public async Task AfterCommitAsync(Expression<Func<ApiKey, bool>> keys, CancellationToken cancellationToken)
    {
        var hashes = await db.ApiKeys.Where(keys).Select(k => k.SecretHash).ToListAsync(cancellationToken);
        hooks.AfterCommit(() => hashes.ForEach(status.Forget));
    }
}
