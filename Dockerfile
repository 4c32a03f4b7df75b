# trackwatch image for docker-compose.yml. Production uses external Kafka and ClickHouse,
# so the embedded engine (libchdb) is not included.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /trackwatch ./cmd/trackwatch

FROM gcr.io/distroless/static-debian12
COPY --from=build /trackwatch /trackwatch
ENTRYPOINT ["/trackwatch"]
CMD ["run"]
