using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Groundwork.Platform.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class IdempotencyInTransaction : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Records of the old claim-first design (in-flight claims, rendered REST bodies) cannot be replayed by
            // the new one; they live 24 h at most, so they are dropped rather than converted.
            migrationBuilder.Sql("DELETE FROM idempotency_records;");

            migrationBuilder.DropColumn(
                name: "lock_token",
                table: "idempotency_records");

            migrationBuilder.DropColumn(
                name: "locked_until",
                table: "idempotency_records");

            migrationBuilder.DropColumn(
                name: "method",
                table: "idempotency_records");

            migrationBuilder.DropColumn(
                name: "path",
                table: "idempotency_records");

            migrationBuilder.DropColumn(
                name: "response_location",
                table: "idempotency_records");

            migrationBuilder.DropColumn(
                name: "response_status",
                table: "idempotency_records");

            migrationBuilder.DropColumn(
                name: "state",
                table: "idempotency_records");

            migrationBuilder.RenameColumn(
                name: "response_body",
                table: "idempotency_records",
                newName: "response");

            migrationBuilder.AddColumn<string>(
                name: "operation",
                table: "idempotency_records",
                type: "character varying(64)",
                maxLength: 64,
                nullable: false,
                defaultValue: "");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "operation",
                table: "idempotency_records");

            migrationBuilder.RenameColumn(
                name: "response",
                table: "idempotency_records",
                newName: "response_body");

            migrationBuilder.AddColumn<Guid>(
                name: "lock_token",
                table: "idempotency_records",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<DateTime>(
                name: "locked_until",
                table: "idempotency_records",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            migrationBuilder.AddColumn<string>(
                name: "method",
                table: "idempotency_records",
                type: "character varying(10)",
                maxLength: 10,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "path",
                table: "idempotency_records",
                type: "character varying(512)",
                maxLength: 512,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "response_location",
                table: "idempotency_records",
                type: "character varying(512)",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "response_status",
                table: "idempotency_records",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "state",
                table: "idempotency_records",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");
        }
    }
}
