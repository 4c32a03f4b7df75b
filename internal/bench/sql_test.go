package bench

import (
	"strings"
	"testing"

	"github.com/trackwatch/trackwatch/sqlfile"
)

// Every statement renders with the data its callers give it, the database quoted and
// values left to query parameters.
func TestStatementsRender(t *testing.T) {
	data := sqlfile.DB("bench`x").With("Table", sqlfile.Ident("tracking_events")).With("From", sqlfile.Ident("bench_trackwatch")).
		With("Held", heldEvents).With("Part", "held")
	fragments := map[string]bool{"number_digits": true, "number_sum": true, "number_check_digit": true, "bench_number": true,
		"shipped_at": true, "tracking_columns": true, "held_window": true}
	for _, name := range statements.Names() {
		q := statements.Text(name, data)
		if fragments[name] {
			continue
		}
		if strings.Contains(q, "{{") || strings.Contains(q, "<no value>") {
			t.Errorf("%s: not rendered:\n%s", name, q)
		}
		serverWide := map[string]bool{"jemalloc_purge": true, "merges_running": true, "selected_rows": true, "server_now": true, "table_bytes": true}
		if !serverWide[name] && !strings.Contains(q, "`bench``x`.") {
			t.Errorf("%s names no quoted database:\n%s", name, q)
		}
	}
	if q := statements.Text("generate_tracking", data.With("Table", heldEvents)); !strings.Contains(q, "INSERT INTO `bench``x`.`bench_held_events`") ||
		!strings.HasSuffix(q, "WHERE p % 25 != 4 AND occurred_at > {as_of:DateTime64(3, 'UTC')}") {
		t.Errorf("held carrier events:\n%s", q)
	}
	if q := statements.Text("generate_tracking", data.With("Part", "")); !strings.HasSuffix(q, "WHERE p % 25 != 4") {
		t.Errorf("all carrier events:\n%s", q)
	}
	for _, name := range []string{"kafka_tracking", "kafka_orders"} {
		if q := statements.In("b", name); !strings.Contains(q, "kafka_broker_list = {brokers:String}") || !strings.Contains(q, "kafka_num_consumers = {consumers:UInt32}") {
			t.Errorf("%s: the settings are not parameters:\n%s", name, q)
		}
	}
}
