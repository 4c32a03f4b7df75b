// Package grafana_test checks the Grafana deployment in deploy/grafana: that the
// provisioning files parse and agree with docker-compose.yml, that every panel of the
// dashboard queries the provisioned ClickHouse data source, and that every panel's SQL,
// with Grafana's macros expanded as the ClickHouse plugin expands them, runs against
// trackwatch's schema on the embedded ClickHouse and gives the expected numbers for a
// small world.
package grafana_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
	"github.com/trackwatch/trackwatch/detect/detecttest"
	"github.com/trackwatch/trackwatch/devstack"
)

func TestMain(m *testing.M) {
	devstack.RunChildIfRequested()
	os.Exit(m.Run())
}

const (
	dashboardFile  = "dashboards/trackwatch.json"
	datasourceFile = "provisioning/datasources/clickhouse.yaml"
	providerFile   = "provisioning/dashboards/dashboards.yaml"
	composeFile    = "../../docker-compose.yml"

	pluginType = "grafana-clickhouse-datasource"
	dbName     = "trackwatch" // the database the dashboard's SQL names
	testDB     = "gf"         // the database the test's world is in
)

// Panel ids of the dashboard, for the checks of their results.
const (
	panelAlertsPerDay = 1
	panelFiringNow    = 2
	panelVTR          = 3
	panelQueue        = 4
	panelIngestLag    = 5
	panelDeadLetters  = 6
)

// The dashboard range the test queries ask for.
var (
	rangeFrom = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	rangeTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// ---- the files ----

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID         string `json:"refId"`
	Datasource    *dsRef `json:"datasource"`
	EditorType    string `json:"editorType"`
	QueryType     string `json:"queryType"`
	Format        *int   `json:"format"`
	PluginVersion string `json:"pluginVersion"`
	RawSQL        string `json:"rawSql"`
}

type panel struct {
	ID         int      `json:"id"`
	Title      string   `json:"title"`
	Type       string   `json:"type"`
	Datasource *dsRef   `json:"datasource"`
	Targets    []target `json:"targets"`
	Panels     []panel  `json:"panels"` // a row's panels
}

type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Fatalf("%s: no uid or title", dashboardFile)
	}
	return d
}

// queryPanels returns every panel that is not a row, rows' panels included.
func queryPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		if p.Type != "row" {
			out = append(out, p)
		}
		out = append(out, queryPanels(p.Panels)...)
	}
	return out
}

type provisionedDatasource struct {
	Name           string            `yaml:"name"`
	UID            string            `yaml:"uid"`
	Type           string            `yaml:"type"`
	Access         string            `yaml:"access"`
	IsDefault      bool              `yaml:"isDefault"`
	Editable       bool              `yaml:"editable"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData"`
}

type dashboardProvider struct {
	Name                  string `yaml:"name"`
	OrgID                 int    `yaml:"orgId"`
	Folder                string `yaml:"folder"`
	Type                  string `yaml:"type"`
	DisableDeletion       bool   `yaml:"disableDeletion"`
	AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
	UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
	Options               struct {
		Path                      string `yaml:"path"`
		FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
	} `yaml:"options"`
}

// decodeStrict decodes a YAML file into v, refusing keys v does not know.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadDatasource(t *testing.T) provisionedDatasource {
	t.Helper()
	var f struct {
		APIVersion  int                     `yaml:"apiVersion"`
		Datasources []provisionedDatasource `yaml:"datasources"`
	}
	decodeStrict(t, datasourceFile, &f)
	if f.APIVersion != 1 || len(f.Datasources) != 1 {
		t.Fatalf("%s: apiVersion %d, %d data sources; want apiVersion 1 and one data source", datasourceFile, f.APIVersion, len(f.Datasources))
	}
	return f.Datasources[0]
}

func loadProvider(t *testing.T) dashboardProvider {
	t.Helper()
	var f struct {
		APIVersion int                 `yaml:"apiVersion"`
		Providers  []dashboardProvider `yaml:"providers"`
	}
	decodeStrict(t, providerFile, &f)
	if f.APIVersion != 1 || len(f.Providers) != 1 {
		t.Fatalf("%s: apiVersion %d, %d providers; want apiVersion 1 and one provider", providerFile, f.APIVersion, len(f.Providers))
	}
	return f.Providers[0]
}

type composeService struct {
	Image       string   `yaml:"image"`
	Profiles    []string `yaml:"profiles"`
	Environment any      `yaml:"environment"` // a map or a list of NAME=value
	Volumes     []string `yaml:"volumes"`
	Ports       []string `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

func (s composeService) env(name string) (string, bool) {
	switch e := s.Environment.(type) {
	case map[string]any:
		v, ok := e[name]
		if !ok || v == nil {
			return "", ok
		}
		return fmt.Sprint(v), true
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			if k == name {
				return v, true
			}
		}
	}
	return "", false
}

// mount returns where the service mounts host path src, "" if it does not.
func (s composeService) mount(src string) string {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && strings.TrimSuffix(parts[0], "/") == src {
			return parts[1]
		}
	}
	return ""
}

// ---- the checks of the files ----

func TestProvisioningParsesAndMatchesCompose(t *testing.T) {
	ds := loadDatasource(t)
	if ds.Type != pluginType || ds.UID == "" || ds.Access != "proxy" {
		t.Errorf("data source: type %q uid %q access %q; want type %s, a uid, access proxy", ds.Type, ds.UID, ds.Access, pluginType)
	}
	// The keys the plugin reads (pkg/plugin/settings.go of grafana/clickhouse-datasource v4).
	known := []string{"host", "port", "protocol", "secure", "username", "defaultDatabase", "path", "dialTimeout", "queryTimeout"}
	for k := range ds.JSONData {
		if !slices.Contains(known, k) {
			t.Errorf("data source jsonData.%s: not a key the plugin reads (%s)", k, strings.Join(known, ", "))
		}
	}
	want := map[string]any{"host": "clickhouse", "port": 9000, "protocol": "native", "username": "default", "defaultDatabase": dbName}
	for k, v := range want {
		if got := ds.JSONData[k]; got != v {
			t.Errorf("data source jsonData.%s = %v (%T), want %v", k, got, got, v)
		}
	}
	if got := ds.SecureJSONData["password"]; got != "$CLICKHOUSE_PASSWORD" && got != "${CLICKHOUSE_PASSWORD}" {
		t.Errorf("data source secureJsonData.password = %q, want $CLICKHOUSE_PASSWORD (from Grafana's environment)", got)
	}

	prov := loadProvider(t)
	if prov.Type != "file" || prov.Options.Path == "" {
		t.Errorf("dashboard provider: type %q path %q; want a file provider with a path", prov.Type, prov.Options.Path)
	}

	var compose struct {
		Services map[string]composeService `yaml:"services"`
	}
	b, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	ch, ok := compose.Services["clickhouse"]
	if !ok {
		t.Fatalf("%s: no clickhouse service", composeFile)
	}
	gf, ok := compose.Services["grafana"]
	if !ok {
		t.Fatalf("%s: no grafana service", composeFile)
	}
	if !regexp.MustCompile(`^grafana/grafana(-oss|-enterprise)?:\d+\.\d+\.\d+`).MatchString(gf.Image) {
		t.Errorf("grafana image %q: want one pinned to a version", gf.Image)
	}
	if !slices.Contains(gf.Profiles, "grafana") {
		t.Errorf("grafana service profiles %v: want it under profile grafana", gf.Profiles)
	}
	if gf.DependsOn["clickhouse"].Condition != "service_healthy" {
		t.Errorf("grafana service: want it to depend on clickhouse being healthy")
	}
	chPassword, _ := ch.env("CLICKHOUSE_PASSWORD")
	if got, _ := gf.env("CLICKHOUSE_PASSWORD"); got != chPassword {
		t.Errorf("grafana CLICKHOUSE_PASSWORD %q, clickhouse's %q: want the same", got, chPassword)
	}
	plugins, _ := gf.env("GF_INSTALL_PLUGINS")
	pinned := regexp.MustCompile(`(?:^|,)\s*` + regexp.QuoteMeta(pluginType) + `(?:\s+(\S+))?`).FindStringSubmatch(plugins)
	if pinned == nil {
		t.Errorf("grafana GF_INSTALL_PLUGINS %q: want %s", plugins, pluginType)
	}
	for src, dst := range map[string]string{
		"./deploy/grafana/provisioning/datasources": "/etc/grafana/provisioning/datasources",
		"./deploy/grafana/provisioning/dashboards":  "/etc/grafana/provisioning/dashboards",
		"./deploy/grafana/dashboards":               prov.Options.Path,
	} {
		got := gf.mount(src)
		if got == "" {
			got = strings.TrimSuffix(gf.mount("./deploy/grafana/provisioning"), "/") + strings.TrimPrefix(src, "./deploy/grafana/provisioning")
		}
		if got != dst {
			t.Errorf("grafana service mounts %s at %q, want %s", src, got, dst)
		}
	}
	if !slices.Contains(gf.Ports, "127.0.0.1:3000:3000") {
		t.Errorf("grafana ports %v: want 127.0.0.1:3000:3000", gf.Ports)
	}

	// The dashboard's queries say which plugin version wrote them: the one compose installs.
	if pinned != nil && pinned[1] != "" {
		for _, p := range queryPanels(loadDashboard(t).Panels) {
			for _, tg := range p.Targets {
				if tg.PluginVersion != pinned[1] {
					t.Errorf("panel %q target %s: pluginVersion %q, compose installs %s", p.Title, tg.RefID, tg.PluginVersion, pinned[1])
				}
			}
		}
	}
}

func TestEveryPanelQueriesTheProvisionedDataSource(t *testing.T) {
	ds := loadDatasource(t)
	panels := queryPanels(loadDashboard(t).Panels)
	if len(panels) == 0 {
		t.Fatal("no panels")
	}
	ids := map[int]bool{}
	for _, p := range panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource == nil || p.Datasource.UID != ds.UID || p.Datasource.Type != ds.Type {
			t.Errorf("panel %q: data source %+v, want {%s %s}", p.Title, p.Datasource, ds.Type, ds.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != ds.UID || tg.Datasource.Type != ds.Type {
				t.Errorf("panel %q target %s: data source %+v, want {%s %s}", p.Title, tg.RefID, tg.Datasource, ds.Type, ds.UID)
			}
			if tg.EditorType != "sql" || strings.TrimSpace(tg.RawSQL) == "" {
				t.Errorf("panel %q target %s: editorType %q; want an SQL query (editorType sql, rawSql)", p.Title, tg.RefID, tg.EditorType)
			}
			// The plugin's format numbers (sqlds): 0 time series, 1 table.
			if wantFormat, ok := map[string]int{"timeseries": 0, "table": 1}[tg.QueryType]; !ok || tg.Format == nil || *tg.Format != wantFormat {
				t.Errorf("panel %q target %s: queryType %q format %v; want timeseries/0 or table/1", p.Title, tg.RefID, tg.QueryType, tg.Format)
			}
		}
	}
}

// ---- the queries ----

var (
	timeFilterMacro = regexp.MustCompile(`\$__timeFilter\(\s*([^()]+?)\s*\)`)
	fromTimeMacro   = regexp.MustCompile(`\$__fromTime\b`)
	toTimeMacro     = regexp.MustCompile("\\$__toTime\\b")
	dbRef           = regexp.MustCompile("`?\\b" + dbName + "`?\\.")
)

// expand expands the Grafana macros of a panel query as grafana-clickhouse-datasource v4
// does (pkg/macros/macros.go: $__timeFilter(c) is "c >= toDateTime(from) AND c <=
// toDateTime(to)", $__fromTime and $__toTime are toDateTime(unix seconds)) and points the
// query at database db. Any other macro or variable is an error: add it here first.
func expand(sql string, from, to time.Time, db string) (string, error) {
	f, u := fmt.Sprintf("toDateTime(%d)", from.Unix()), fmt.Sprintf("toDateTime(%d)", to.Unix())
	sql = timeFilterMacro.ReplaceAllString(sql, "$1 >= "+f+" AND $1 <= "+u)
	sql = fromTimeMacro.ReplaceAllLiteralString(sql, f)
	sql = toTimeMacro.ReplaceAllLiteralString(sql, u)
	if i := strings.Index(sql, "$"); i >= 0 {
		return "", fmt.Errorf("unexpanded macro or variable at %q", sql[i:min(len(sql), i+30)])
	}
	return dbRef.ReplaceAllLiteralString(sql, "`"+db+"`."), nil
}

type row map[string]any

func query(t *testing.T, conn driver.Conn, sql string) ([]row, error) {
	t.Helper()
	rows, err := conn.Query(t.Context(), sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := rows.ColumnTypes()
	var out []row
	for rows.Next() {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = reflect.New(c.ScanType()).Interface()
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		r := row{}
		for i, c := range cols {
			r[c.Name()] = reflect.ValueOf(vals[i]).Elem().Interface()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// num reads a numeric column value; ok is false for NULL.
func num(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return 0, false
		}
		rv = rv.Elem()
	}
	switch x := rv.Interface().(type) {
	case decimal.Decimal:
		return x.InexactFloat64(), true
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	panic(fmt.Sprintf("not a number: %T %v", v, v))
}

func str(v any) string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	return fmt.Sprint(rv.Interface())
}

// ---- the world ----

func day(d, hour int) time.Time { return time.Date(2026, 10, d, hour, 0, 0, 0, time.UTC) }

// ship inserts an order of seller placed two days before at and shipped at at with tn;
// more numbers are re-shipments (new tracking numbers), a day apart each.
func ship(w *detecttest.World, order, seller string, at time.Time, tns ...string) {
	w.T.Helper()
	msgs := []string{fmt.Sprintf(`{"event_id":"%s-p","order_id":"%s","seller_id":"%s","buyer_id":"b-%s","status":"placed","marketplace":"aliexpress",`+
		`"occurred_at":"%s","ship_to":{"country":"JP","city":"Tokyo","postal_code":"100-0001"},"amount":25.5}`,
		order, order, seller, order, at.Add(-48*time.Hour).Format(time.RFC3339))}
	for i, tn := range tns {
		msgs = append(msgs, fmt.Sprintf(`{"event_id":"%s-s%d","order_id":"%s","seller_id":"%s","buyer_id":"b-%s","status":"shipped","marketplace":"aliexpress",`+
			`"occurred_at":"%s","tracking_number":"%s","carrier":"china-post"}`,
			order, i, order, seller, order, at.Add(time.Duration(i)*24*time.Hour).Format(time.RFC3339), tn))
	}
	w.Orders(msgs...)
}

// scan inserts a carrier event for tn at at.
func scan(w *detecttest.World, tn, rawStatus string, at time.Time) {
	w.T.Helper()
	w.ScanJSON(fmt.Sprintf(`{"event_id":"%s-%d","tracking_number":"%s","raw_status":"%s","occurred_at":"%s","location":{"country":"CN"}}`,
		tn, at.Unix(), tn, rawStatus, at.Format(time.RFC3339)))
}

const (
	physicalScan = "In transit"                      // in_transit/in_transit: physical
	preAdvice    = "Electronic information received" // info_received/pre_advice: not physical
)

// queue is what the fixture's alerts should look like on the dashboard.
type queue struct {
	firing           map[string]int // per detector
	size             int            // firing and not closed
	notActedOn       int            // firing without a case action
	oldestNotActedOn time.Time      // when the oldest of those began firing
}

// world builds the fixture: three sellers' shipped orders with and without physical
// scans within 5 days, alerts recorded by every detector over three runs, case actions,
// and dead letters.
func world(t *testing.T) (*detecttest.World, queue) {
	w := detecttest.NewWorld(t, testDB)

	// s-good: 3 of 3 valid. g2 was re-shipped with a new number, which was scanned (the
	// first number never was); g3's scan came 2 hours before the seller confirmed shipment.
	ship(w, "g1", "s-good", day(5, 10), "RR100000001CN")
	scan(w, "RR100000001CN", physicalScan, day(6, 8))
	ship(w, "g2", "s-good", day(5, 10), "RR100000002CN", "RR100000003CN")
	scan(w, "RR100000003CN", physicalScan, day(8, 8))
	ship(w, "g3", "s-good", day(10, 10), "RR100000004CN")
	scan(w, "RR100000004CN", physicalScan, day(10, 8))
	// s-half: 1 of 2. h2's number only ever had pre-advice, which is no physical scan.
	ship(w, "h1", "s-half", day(5, 10), "RR200000001CN")
	scan(w, "RR200000001CN", physicalScan, day(7, 8))
	ship(w, "h2", "s-half", day(5, 10), "RR200000002CN")
	scan(w, "RR200000002CN", preAdvice, day(5, 8))
	scan(w, "RR200000002CN", preAdvice, day(6, 8))
	// s-bad: 0 of 4. b1's first physical scan came 7 days after shipment; b2, b-late and
	// b-later were never scanned. b-recent (its 5 days are not over at the end of the
	// range) and b-old (shipped over 90 days before it) do not count.
	ship(w, "b1", "s-bad", day(5, 10), "RR300000001CN")
	scan(w, "RR300000001CN", physicalScan, day(12, 8))
	ship(w, "b2", "s-bad", day(8, 10), "RR300000002CN")
	ship(w, "b-late", "s-bad", day(18, 10), "RR300000005CN")
	ship(w, "b-later", "s-bad", day(19, 10), "RR300000006CN")
	ship(w, "b-recent", "s-bad", day(29, 10), "RR300000003CN")
	ship(w, "b-old", "s-bad", time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), "RR300000004CN")

	// Every detector runs as of the 15th, the 20th and the 22nd. The fixture's numbers
	// have wrong S10 check digits, so invalid_tracking_number flags every order from the
	// first run after its shipment: b-late and b-later (shipped on the 18th and 19th) from
	// the 20th on. h2's parcel moved on the 21st (too late for its valid tracking rate):
	// some alert resolves on the 22nd. alerts holds several versions of the rows of the
	// alerts that stay (read with FINAL).
	set, err := detect.NewSet(testDB)
	if err != nil {
		t.Fatal(err)
	}
	s := alert.NewStore(w.Conn, testDB)
	var res alert.Result
	for _, d := range []int{15, 20, 22} {
		if d == 22 {
			scan(w, "RR200000002CN", physicalScan, day(21, 8))
		}
		if res, err = s.RecordAt(t.Context(), w.Conn, set, detect.Config{}, detecttest.AsOf(d)); err != nil {
			t.Fatal(err)
		}
	}
	if res.Count(alert.ChangeResolved) == 0 {
		t.Fatalf("the fixture's last run resolves no alert: %+v", res.Changes)
	}
	as, err := s.List(t.Context(), alert.Filter{Status: alert.StatusFiring, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	q := queue{firing: res.Firing, size: len(as), notActedOn: len(as)}
	// Analysts acknowledged every alert of the first firing day and closed one of the
	// later ones: the oldest alert nobody acted on is the oldest of the others.
	slices.SortFunc(as, func(a, b alert.Alert) int {
		return cmp.Or(a.FirstDetectedAt.Compare(b.FirstDetectedAt), strings.Compare(a.AlertID, b.AlertID))
	})
	closed := false
	for _, a := range as {
		act := alert.Action{Action: alert.ActAcknowledge, Actor: "analyst"}
		switch {
		case a.FirstDetectedAt.Equal(as[0].FirstDetectedAt):
		case !closed:
			act = alert.Action{Action: alert.ActClose, Actor: "analyst", Outcome: alert.OutcomeConfirmedFake}
			closed = true
			q.size--
		default:
			if q.oldestNotActedOn.IsZero() {
				q.oldestNotActedOn = a.FirstDetectedAt
			}
			continue
		}
		if _, err := s.Act(t.Context(), a.AlertID, act, detecttest.AsOf(23)); err != nil {
			t.Fatal(err)
		}
		q.notActedOn--
	}
	if q.oldestNotActedOn.IsZero() {
		var began []string
		for _, a := range as {
			began = append(began, a.Detector+" "+a.OrderID+" "+a.FirstDetectedAt.Format(time.DateOnly))
		}
		t.Fatalf("the fixture needs two firing alerts that began after the first run's; firing: %v", began)
	}

	// Dead letters: two not_json on the 6th (one of them stored twice, as a re-delivered
	// message is until a merge), one bad_timestamp on the 7th, one before the range.
	for _, dl := range []struct {
		offset int
		reason string
		at     time.Time
	}{{100, "not_json", day(6, 1)}, {101, "not_json", day(6, 23)}, {101, "not_json", day(6, 23).Add(time.Second)},
		{102, "bad_timestamp", day(7, 5)}, {103, "too_large", time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}} {
		if err := w.Conn.Exec(t.Context(), fmt.Sprintf("INSERT INTO `%s`.dead_letters (topic, partition, offset, message_key, raw, reason, error, message_time, dead_lettered_at) "+
			"VALUES ('order-events', 0, %d, '', 'x', '%s', 'test', toDateTime64(%d, 3, 'UTC'), toDateTime64(%d, 3, 'UTC'))",
			testDB, dl.offset, dl.reason, dl.at.Unix(), dl.at.Unix())); err != nil {
			t.Fatal(err)
		}
	}
	return w, q
}

// ---- running every query ----

func TestEveryPanelQueryRunsAndGivesTheFixturesNumbers(t *testing.T) {
	panels := queryPanels(loadDashboard(t).Panels)
	w, q := world(t)

	results := map[int][]row{}
	for _, p := range panels {
		for _, tg := range p.Targets {
			sql, err := expand(tg.RawSQL, rangeFrom, rangeTo, testDB)
			if err != nil {
				t.Errorf("panel %q (id %d) target %s: %v", p.Title, p.ID, tg.RefID, err)
				continue
			}
			rows, err := query(t, w.Conn, sql)
			if err != nil {
				t.Errorf("panel %q (id %d) target %s: %v\n%s", p.Title, p.ID, tg.RefID, err, sql)
				continue
			}
			t.Logf("panel %q target %s: %d rows", p.Title, tg.RefID, len(rows))
			if tg.RefID == "A" {
				results[p.ID] = rows
			}
		}
	}
	if t.Failed() {
		return
	}

	checks := map[int]func(t *testing.T, rows []row){
		panelAlertsPerDay: func(t *testing.T, rows []row) {
			// Every alert, firing or resolved, by the day its firing began: all in the range.
			as, err := alert.NewStore(w.Conn, testDB).List(t.Context(), alert.Filter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			for _, a := range as {
				want[a.FirstDetectedAt.Format(time.DateOnly)+" "+a.Detector]++
			}
			got := map[string]int{}
			for _, r := range rows {
				n, _ := num(r["alerts"])
				got[r["time"].(time.Time).UTC().Format(time.DateOnly)+" "+str(r["detector"])] += int(n)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("alerts per day and detector %v, want %v", got, want)
			}
		},
		panelFiringNow: func(t *testing.T, rows []row) {
			got, want := map[string]int{}, map[string]int{}
			for d, n := range q.firing {
				if n > 0 {
					want[d] = n
				}
			}
			for _, r := range rows {
				n, _ := num(r["firing"])
				got[str(r["detector"])] = int(n)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("firing by detector %v, want %v (the run's)", got, want)
			}
		},
		panelVTR: func(t *testing.T, rows []row) {
			type seller struct {
				seller         string
				shipped, valid float64
				vtr            float64
			}
			var got []seller
			for _, r := range rows {
				s, _ := num(r["shipped_orders"])
				v, _ := num(r["valid_tracking"])
				rate, _ := num(r["vtr"])
				got = append(got, seller{str(r["seller"]), s, v, rate})
			}
			want := []seller{ // worst first
				{"aliexpress / s-bad", 4, 0, 0},
				{"aliexpress / s-half", 2, 1, 0.5},
				{"aliexpress / s-good", 3, 3, 1},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("valid tracking rate:\n got %+v\nwant %+v", got, want)
			}
		},
		panelQueue: func(t *testing.T, rows []row) {
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			size, _ := num(rows[0]["queue_size"])
			unacted, _ := num(rows[0]["not_acted_on"])
			if int(size) != q.size || int(unacted) != q.notActedOn {
				t.Errorf("queue %v, not acted on %v; want %d and %d", size, unacted, q.size, q.notActedOn)
			}
			hours, ok := num(rows[0]["oldest_not_acted_on_hours"])
			want := time.Since(q.oldestNotActedOn).Hours()
			if !ok || math.Abs(hours-want) > 0.2 {
				t.Errorf("oldest not acted on %v hours (null: %v), want %.1f", hours, !ok, want)
			}
		},
		panelIngestLag: func(t *testing.T, rows []row) {
			got := map[string]bool{}
			for _, r := range rows {
				lag, ok := num(r["lag_seconds"])
				if !ok || lag < -5 || lag > 600 {
					t.Errorf("%s: lag %v s (null: %v), want a few seconds: the fixture was just written", str(r["table"]), lag, !ok)
				}
				got[str(r["table"])] = true
			}
			for _, tbl := range []string{"tracking_events", "order_events", "alert_runs"} {
				if !got[tbl] {
					t.Errorf("no lag for %s", tbl)
				}
			}
		},
		panelDeadLetters: func(t *testing.T, rows []row) {
			var got []string
			for _, r := range rows {
				n, _ := num(r["dead_letters"])
				got = append(got, fmt.Sprintf("%s %s %d", r["time"].(time.Time).Format(time.DateOnly), str(r["reason"]), int(n)))
			}
			want := []string{"2026-10-06 not_json 2", "2026-10-07 bad_timestamp 1"}
			if !slices.Equal(got, want) {
				t.Errorf("dead letters %v, want %v", got, want)
			}
		},
	}
	for id, check := range checks {
		rows, ok := results[id]
		if !ok {
			t.Errorf("no panel with id %d and a query A", id)
			continue
		}
		t.Run(fmt.Sprint("panel ", id), func(t *testing.T) { check(t, rows) })
	}
}

// The queue panel derives case states as package alert does, word for word.
func TestQueuePanelDerivesCasesAsPackageAlert(t *testing.T) {
	for _, p := range queryPanels(loadDashboard(t).Panels) {
		if p.ID == panelQueue {
			if len(p.Targets) == 0 || !strings.Contains(p.Targets[0].RawSQL, alert.CaseSQL(dbName)) {
				t.Errorf("panel %q: its SQL does not contain alert.CaseSQL(%q):\n%s", p.Title, dbName, alert.CaseSQL(dbName))
			}
			return
		}
	}
	t.Errorf("no panel with id %d", panelQueue)
}

func TestExpandMacrosAsThePlugin(t *testing.T) {
	from, to := time.Unix(1000, 0), time.Unix(2000, 0)
	got, err := expand("SELECT 1 FROM trackwatch.t WHERE $__timeFilter(at) AND x > $__fromTime AND x < $__toTime AND y IN (SELECT a FROM `trackwatch`.u)", from, to, "db")
	want := "SELECT 1 FROM `db`.t WHERE at >= toDateTime(1000) AND at <= toDateTime(2000) AND x > toDateTime(1000) AND x < toDateTime(2000) AND y IN (SELECT a FROM `db`.u)"
	if err != nil || got != want {
		t.Errorf("expand:\n got %q, %v\nwant %q", got, err, want)
	}
	for _, q := range []string{"SELECT $__timeFilter_ms(at)", "SELECT $__interval_s", "SELECT ${var}", "SELECT $__fromTime_ms"} {
		if _, err := expand(q, from, to, "db"); err == nil {
			t.Errorf("expand(%q): no error for a macro the test does not expand", q)
		}
	}
}
