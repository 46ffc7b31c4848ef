using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Groundwork.Platform.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AccountAndOrderVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "version",
                table: "orders",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "version",
                table: "accounts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "version",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "version",
                table: "accounts");
        }
    }
}
