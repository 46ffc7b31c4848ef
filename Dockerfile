# syntax=docker/dockerfile:1
# Groundwork as a container: build with the SDK, run on the ASP.NET runtime image as a non-root user.
#   docker build -t groundwork .
#   docker run --read-only --tmpfs /tmp -v groundwork-data:/app/data -p 8080:8080 groundwork
# The root filesystem can be read-only: the service writes only to /app/data (SQLite file, signing keys; mount a
# volume or, on PostgreSQL, a shared secret for the keys) and /tmp (a tmpfs).

# The SDK runs on the build machine's own platform and compiles for the target's (crossgen cross-compiles), so an
# image for another architecture is not built under emulation.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so the layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Groundwork/Groundwork.csproj src/Groundwork/
# For the target architecture (BuildKit sets TARGETARCH; the SDK reads amd64 as x64): the project publishes
# ReadyToRun code, which needs that architecture's runtime pack and compiler. Without BuildKit, TARGETARCH is empty
# and the SDK takes its own machine's. The publish below must name the same architecture (it does not restore).
ARG TARGETARCH
RUN dotnet restore src/Groundwork/Groundwork.csproj ${TARGETARCH:+-a $TARGETARCH}
COPY api/ api/
COPY src/ src/
RUN dotnet publish src/Groundwork/Groundwork.csproj -c Release ${TARGETARCH:+-a $TARGETARCH} -o /app --no-restore -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's unprivileged user (uid 1654); /app/data is the one folder it writes.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data && chmod 700 /app/data
USER $APP_UID
ENV ASPNETCORE_ENVIRONMENT=Production \
    Urls=http://+:8080 \
    Groundwork__Urls__Grpc=http://+:8081 \
    Groundwork__Observability__MetricsUrl=http://+:9464
EXPOSE 8080 8081 9464
VOLUME ["/app/data"]
# Liveness from inside the container, without curl in the image: bash speaks HTTP/1.0 to the local port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health/live HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "groundwork.dll"]
