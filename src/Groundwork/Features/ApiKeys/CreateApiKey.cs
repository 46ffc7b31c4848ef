using FluentValidation;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;

namespace Groundwork.Features.ApiKeys;

public sealed record CreateApiKeyRequest(string? Name, IReadOnlyList<string>? Scopes, DateTime? ExpiresAt);

public sealed class CreateApiKeyValidator : AbstractValidator<CreateApiKeyRequest>
{
    public CreateApiKeyValidator(TimeProvider clock)
    {
        RuleFor(r => r.Name).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Name is required")
            .MaximumLength(100).WithMessage("Name must be at most 100 characters")
            .Must(TextSafety.IsPlainLabel).WithMessage(TextSafety.PlainLabelMessage);
        RuleFor(r => r.Scopes).NotEmpty().WithMessage("At least one scope is required");
        RuleForEach(r => r.Scopes).Must(s => s is not null && Scopes.All.Contains(s))
            .WithMessage($"Unknown scope; valid scopes: {string.Join(' ', Scopes.All)}");
        RuleFor(r => r.ExpiresAt).Must(e => e is null || e > clock.GetUtcNow().UtcDateTime)
            .WithMessage("Expiry must be in the future");
    }
}

/// <summary>
/// Creates a key for the caller. Keys cannot mint keys: a leaked key must not be able to outlive its revocation.
/// A key acts with its owner's current role, so it can never be wider than the owner.
/// </summary>
public sealed class CreateApiKey(GroundworkDbContext db, TimeProvider clock) : IOperation<CreateApiKeyRequest, CreatedApiKeyDto>
{
    public Policy Policy => Policy.SessionOnly;

    /// <summary>No idempotency key: the response carries the secret, which must never be stored for replay.</summary>
    public Execution Execution => Execution.Write;

    public async Task<Result<CreatedApiKeyDto>> HandleAsync(CreateApiKeyRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var secret = Secrets.NewToken(ApiKeyAuthenticationHandler.SecretPrefix);
        var key = new ApiKey
        {
            UserId = caller.UserId!.Value,
            Name = request.Name!.Trim(),
            Prefix = secret[..10],
            SecretHash = Secrets.Hash(secret),
            Scopes = string.Join(' ', request.Scopes!.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            ExpiresAt = request.ExpiresAt,
        };
        db.ApiKeys.Add(key);
        return new CreatedApiKeyDto(key.Id, key.Name, key.Prefix, key.ScopeList, key.CreatedAt, key.ExpiresAt, secret);
    }
}
