using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Groundwork.Platform.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CacheRepairsClaimIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_cache_repairs_claim",
                table: "cache_repairs",
                column: "claim",
                filter: "claim IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_cache_repairs_claim",
                table: "cache_repairs");
        }
    }
}
