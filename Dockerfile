# switchboard as a container: one self-contained executable (bun build --compile) on a
# minimal glibc base, running as a non-root user, serving echo on 0.0.0.0:7007 by default.
#
#   docker build -t switchboard .
#   docker run --rm -p 7007:7007 switchboard
#
# Both base images are build arguments; the build needs nothing else from a registry.
# Why each default, sizes and the startup measurement: docs/distribution.md ("Docker image").

# The official Bun image (Debian, glibc), pinned to the Bun version in package.json: the
# binary is the Bun runtime plus our bundle, so it is built by the Bun the tests run on.
ARG BUN_IMAGE=docker.io/oven/bun:1.4.5-debian
# Distroless cc: glibc, libgcc_s (glibc loads it for thread cancellation and unwinding),
# CA certificates and tzdata; no shell, no package manager. Debian 12 is the glibc line the
# Bun image builds against; "nonroot" is the variant whose default user is 65532.
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUN_IMAGE} AS build
# Whatever user the base declares, the build writes /src and /out.
USER 0:0
WORKDIR /src
# The sources only: the Bun entry point imports nothing from npm.
COPY src/ src/
COPY adapters/bun/ adapters/bun/
# Minified, and with bytecode (ESM): it starts faster (measured in docs/distribution.md).
RUN ["bun", "build", "--compile", "--minify", "--bytecode", "--format=esm", "adapters/bun/main.ts", "--outfile", "/out/switchboard"]

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG SOURCE_URL=https://github.com/switchboard/switchboard
LABEL org.opencontainers.image.title="switchboard" \
      org.opencontainers.image.description="TCP socket server and client toolkit: echo, discard, chargen, daytime, time, framed echo and a JSON-header app protocol" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE_URL}"
COPY --from=build /out/switchboard /usr/local/bin/switchboard
# By number, so it holds on any base (no /etc/passwd entry needed).
USER 65532:65532
# The services' default ports: echo, discard, daytime, chargen, time, app.
EXPOSE 7007 7009 7013 7019 7037 7065
# The server drains on SIGTERM and exits 0 (it handles signals itself as PID 1: no --init).
STOPSIGNAL SIGTERM
# `probe` reads PID 1's command line (the server) and checks every listener with its
# service's protocol, so this works for any service without a shell or configuration.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/usr/local/bin/switchboard", "probe"]
ENTRYPOINT ["/usr/local/bin/switchboard"]
# Inside a container, loopback is unreachable from outside: listen on all interfaces.
CMD ["serve", "--listen", "0.0.0.0:7007"]
