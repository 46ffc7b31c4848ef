namespace Groundwork.Platform.Http;

public sealed record DataEnvelope<T>(T Data);

public sealed record SelfLink(string Self);

public sealed record CreatedEnvelope<T>(T Data, SelfLink Links);

public sealed record PageMeta(int Page, int Limit, int Total, int TotalPages);

public sealed record PageLinks(string Self, string First, string? Prev, string? Next, string Last);

public sealed record PageEnvelope<T>(IReadOnlyList<T> Data, PageMeta Meta, PageLinks Links);

public sealed record ErrorBody(string Code, string Message, IReadOnlyList<Operations.FieldError> Details, string RequestId);

public sealed record ErrorEnvelope(ErrorBody Error);

public sealed record CursorMeta(int Limit, bool HasMore, string? NextCursor);

public sealed record CursorLinks(string Self, string? Next);

public sealed record CursorEnvelope<T>(IReadOnlyList<T> Data, CursorMeta Meta, CursorLinks Links);
