using Groundwork.Tests.Infrastructure;

[assembly: AssemblyFixture(typeof(PostgresServer))]
