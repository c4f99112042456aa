# Multi-stage build: a static parley binary on a distroless base, run as non-root.
FROM golang:1.26-bookworm AS build
# Go 1.27.3's standard library fixes vulnerabilities 1.26's has (see README).
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/parley ./cmd/parley

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parley /parley
USER nonroot:nonroot
EXPOSE 9090 8080
# The image has no PostgreSQL of its own: set PARLEY_DATABASE_URL.
ENTRYPOINT ["/parley"]
CMD ["serve"]
