# trackwatch images. The default (last) target is production: a static binary on a
# distroless base, without the embedded engine, for docker-compose.yml and real
# clusters. The dev target adds the embedded stack (libchdb, fetched from npm, pinned
# and checked by scripts/fetch-chdb.sh) and runs the demo:
#   docker build --target dev -t trackwatch:dev .
#   docker run -p 8080:8080 trackwatch:dev
# (The machines this project is built on have no Docker engine: a test checks this
# file's stages, but it has not been built here.)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /trackwatch ./cmd/trackwatch

# The tracking-number specification, fetched from npm and checked against its pin.
FROM node:20 AS numbers
WORKDIR /src
COPY scripts/fetch-numbers.sh scripts/npm-fetch.sh scripts/
COPY trackingnumber/spec.pin trackingnumber/
RUN cp -r "$(scripts/fetch-numbers.sh)" /tracking-number-data

FROM golang:1.26 AS dev
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY --from=build /src /src
RUN scripts/fetch-chdb.sh && scripts/fetch-numbers.sh
COPY --from=build /trackwatch /usr/local/bin/trackwatch
EXPOSE 8080
ENTRYPOINT ["trackwatch"]
# The container's listener faces the host, so the API needs tokens: the compose
# configuration's placeholder tokens, to be replaced.
CMD ["run", "--demo", "--config", "/src/deploy/compose/trackwatch.yaml", "--set", "http.listen=0.0.0.0:8080"]

FROM gcr.io/distroless/static-debian12 AS production
COPY --from=build /trackwatch /trackwatch
COPY --from=numbers /tracking-number-data /usr/share/trackwatch/tracking-number-data
ENTRYPOINT ["/trackwatch"]
CMD ["run"]
