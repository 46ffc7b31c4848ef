using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Groundwork.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SortIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_users_created_at",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_users_name",
                table: "users");

            migrationBuilder.CreateIndex(
                name: "ix_users_created_at_id",
                table: "users",
                columns: new[] { "created_at", "id" });

            // The name sort is case-insensitive (lower(name), then id): an expression index, which EF Core's model
            // cannot express, so it lives only here (the same SQL on PostgreSQL and SQLite).
            migrationBuilder.Sql("CREATE INDEX ix_users_lower_name_id ON users (lower(name), id);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_users_lower_name_id;");

            migrationBuilder.DropIndex(
                name: "ix_users_created_at_id",
                table: "users");

            migrationBuilder.CreateIndex(
                name: "ix_users_created_at",
                table: "users",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_users_name",
                table: "users",
                column: "name");
        }
    }
}
