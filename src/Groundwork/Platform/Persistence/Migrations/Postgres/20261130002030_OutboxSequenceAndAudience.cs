using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Groundwork.Platform.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class OutboxSequenceAndAudience : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The old identity column becomes the write order (number); the public sequence is new and is given by
            // the relay, so events written before this migration are numbered and published like any other.
            migrationBuilder.RenameColumn(
                name: "sequence",
                table: "outbox",
                newName: "number");

            migrationBuilder.AddColumn<long>(
                name: "sequence",
                table: "outbox",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "owner",
                table: "outbox",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "other_owner",
                table: "outbox",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "visibility",
                table: "outbox",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_sequence",
                table: "outbox",
                column: "sequence",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_unpublished",
                table: "outbox",
                column: "sequence",
                filter: "published_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_unsequenced",
                table: "outbox",
                column: "number",
                filter: "sequence IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(name: "ix_outbox_sequence", table: "outbox");
            migrationBuilder.DropIndex(name: "ix_outbox_unpublished", table: "outbox");
            migrationBuilder.DropIndex(name: "ix_outbox_unsequenced", table: "outbox");
            migrationBuilder.DropColumn(name: "sequence", table: "outbox");
            migrationBuilder.DropColumn(name: "owner", table: "outbox");
            migrationBuilder.DropColumn(name: "other_owner", table: "outbox");
            migrationBuilder.DropColumn(name: "visibility", table: "outbox");
            migrationBuilder.RenameColumn(name: "number", table: "outbox", newName: "sequence");
        }
    }
}
