using System.Text.Json;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Groundwork.Platform.Http;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Groundwork.Platform.Messaging;

/// <summary>
/// A domain event, written in the same transaction as the change that caused it, so an event exists exactly
/// when its change committed. <see cref="Number"/> is the order rows were written in; <see cref="Sequence"/> is
/// the public, gap-free order the relay gives events when it takes them (SSE ids and replay use it). They differ
/// because transactions commit in another order than they write: a sequence handed out only to committed rows,
/// one batch at a time, never lets a reader see event 12 before event 11 exists.
/// </summary>
public sealed class OutboxMessage
{
    public long Number { get; init; }
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Type { get; init; }
    public DateTime OccurredAt { get; init; }
    public Guid Subject { get; init; }

    /// <summary>The event's <c>data</c> as JSON.</summary>
    public required string Data { get; init; }

    /// <summary>Who may see the event (streams filter on it; it never leaves the server).</summary>
    public EventVisibility Visibility { get; init; }
    public Guid? Owner { get; init; }
    public Guid? OtherOwner { get; init; }

    /// <summary>Given by the relay once the row is committed; null until then.</summary>
    public long? Sequence { get; set; }
    public DateTime? PublishedAt { get; set; }

    public EventAudience Audience => new(Visibility, Owner, OtherOwner);
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox");
        builder.HasKey(m => m.Number);
        builder.Property(m => m.Number).ValueGeneratedOnAdd();
        builder.Property(m => m.Type).HasMaxLength(64);
        builder.Ignore(m => m.Audience);
        builder.HasIndex(m => m.Id).IsUnique();
        builder.HasIndex(m => m.Sequence, "ix_outbox_sequence").IsUnique();
        // What the relay looks for on every pass: rows still waiting for a sequence, and numbered rows not yet
        // published. Partial indexes keep both lookups small however many published rows are retained.
        builder.HasIndex(m => m.Number, "ix_outbox_unsequenced").HasFilter("sequence IS NULL");
        builder.HasIndex(m => m.Sequence, "ix_outbox_unpublished").HasFilter("published_at IS NULL");
        builder.HasIndex(m => m.PublishedAt);
        builder.HasIndex(m => new { m.Type, m.Subject });
    }
}

/// <summary>Stages events on the current DbContext; they are saved by the same SaveChanges as the change.</summary>
public static class Outbox
{
    /// <param name="audience">Who may receive it on a stream (docs/api/events.md); declared where the event is made.</param>
    public static void Add(DbContext db, TimeProvider clock, string type, Guid subject, object data, EventAudience audience)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.Set<OutboxMessage>().Add(Create(clock, type, subject, data, audience));
        OutboxCommitInterceptor.Note(db);
    }

    /// <summary>The event as a row, for a hand-written command to insert (<see cref="AppendInsert"/>).</summary>
    public static OutboxMessage Create(TimeProvider clock, string type, Guid subject, object data, EventAudience audience)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(data);
        return new OutboxMessage
        {
            Type = type,
            Subject = subject,
            OccurredAt = clock.GetUtcNow().UtcDateTime,
            Data = JsonSerializer.Serialize(data, data.GetType(), Json.Options),
            Visibility = audience.Visibility,
            Owner = audience.Owner,
            OtherOwner = audience.OtherOwner,
        };
    }

    /// <summary>
    /// Appends the INSERT of <paramref name="message"/> to a hand-written command on <paramref name="db"/>'s
    /// transaction (the <paramref name="index"/>-th event of that command, 0 to 7: its parameters are named after
    /// it), and wakes the relay when that transaction commits, as <see cref="Add"/> does.
    /// </summary>
    public static void AppendInsert(DbContext db, DbCommand command, StringBuilder sql, OutboxMessage message, int index)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Inserts.Length, nameof(index));
        var insert = Inserts[index];
        sql.Append(insert.Sql);
        command.AddParameter(insert.Id, message.Id);
        command.AddParameter(insert.Type, message.Type);
        command.AddParameter(insert.At, message.OccurredAt);
        command.AddParameter(insert.Subject, message.Subject);
        command.AddParameter(insert.Data, message.Data);
        command.AddParameter(insert.Visibility, (int)message.Visibility);
        command.AddParameter(insert.Owner, (object?)message.Owner ?? DBNull.Value);
        command.AddParameter(insert.Other, (object?)message.OtherOwner ?? DBNull.Value);
        OutboxCommitInterceptor.Note(db);
    }

    /// <summary>The INSERT and its parameter names for each position in a command, made once (hot paths build commands per request).</summary>
    private static readonly InsertStatement[] Inserts = [.. Enumerable.Range(0, 8).Select(i => new InsertStatement(i))];

    private sealed class InsertStatement(int i)
    {
        public string Sql { get; } = string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO outbox (id, type, occurred_at, subject, data, visibility, owner, other_owner)
            VALUES (@e{i}id, @e{i}type, @e{i}at, @e{i}subject, @e{i}data, @e{i}visibility, @e{i}owner, @e{i}other);

            """);

        public string Id { get; } = Name(i, "id");
        public string Type { get; } = Name(i, "type");
        public string At { get; } = Name(i, "at");
        public string Subject { get; } = Name(i, "subject");
        public string Data { get; } = Name(i, "data");
        public string Visibility { get; } = Name(i, "visibility");
        public string Owner { get; } = Name(i, "owner");
        public string Other { get; } = Name(i, "other");

        private static string Name(int i, string name) => string.Create(CultureInfo.InvariantCulture, $"e{i}{name}");
    }
}
