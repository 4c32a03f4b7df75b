package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trackwatch/trackwatch/sqlfile"
	"github.com/trackwatch/trackwatch/store"
)

func TestScratchPrint(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	db := sqlfile.Ident("bench_api")
	os.WriteFile("/tmp/q_case_keys.sql", []byte(statements.Text("case_keys", caseQueryData{DB: db, Status: true, NotClosed: true, Sort: "urgency"})), 0o644)
	os.WriteFile("/tmp/q_case_keys_det.sql", []byte(statements.Text("case_keys", caseQueryData{DB: db, Status: true, NotClosed: true, Detector: true, Sort: "urgency"})), 0o644)
	os.WriteFile("/tmp/q_case_rows.sql", []byte(statements.Text("case_rows", caseQueryData{DB: db, Narrow: true, Keys: true})), 0o644)
	os.WriteFile("/tmp/q_case_links.sql", []byte(statements.In("bench_api", "case_links")), 0o644)
	os.WriteFile("/tmp/q_query_keys.sql", []byte(statements.Text("query_keys", queryData{DB: db, Status: true, NotClosed: true, Sort: "urgency"})), 0o644)
}

func TestScratchTime(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	b, _ := os.ReadFile("/tmp/scratch_addr")
	addr := strings.Fields(string(b))[1]
	ctx := context.Background()
	conn, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 4}, addr)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(conn, "bench_api")
	run := func(name string, f func() error) {
		var ds []time.Duration
		for range 20 {
			st := time.Now()
			if err := f(); err != nil {
				t.Fatal(name, err)
			}
			ds = append(ds, time.Since(st))
		}
		slices.Sort(ds)
		fmt.Printf("%-40s p50 %v p95 %v\n", name, ds[10].Round(time.Millisecond), ds[18].Round(time.Millisecond))
	}
	run("alerts", func() error { _, err := s.Query(ctx, Query{Status: StatusFiring, NotClosed: true}); return err })
	var p CasePage
	run("cases", func() error { p, err = s.Cases(ctx, CaseQuery{Status: StatusFiring, NotClosed: true}); return err })
	run("cases det", func() error {
		_, err := s.Cases(ctx, CaseQuery{Status: StatusFiring, NotClosed: true, Detector: "tracking_reuse"})
		return err
	})
	run("cases recency", func() error { _, err := s.Cases(ctx, CaseQuery{Sort: "recency"}); return err })
	out, _ := json.Marshal(p)
	os.WriteFile("/tmp/cases_page_"+os.Getenv("SCRATCH")+".json", out, 0o644)
	p2, err := s.Cases(ctx, CaseQuery{Status: StatusFiring, NotClosed: true, Cursor: p.Next})
	out, _ = json.Marshal(p2)
	os.WriteFile("/tmp/cases_page2_"+os.Getenv("SCRATCH")+".json", out, 0o644)
	p3, err := s.Cases(ctx, CaseQuery{Sort: "recency", Limit: 200})
	out, _ = json.Marshal(p3)
	os.WriteFile("/tmp/cases_page3_"+os.Getenv("SCRATCH")+".json", out, 0o644)
}

func TestScratchParts(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	b, _ := os.ReadFile("/tmp/scratch_addr")
	addr := strings.Fields(string(b))[1]
	ctx := context.Background()
	conn, err := store.Open(ctx, store.Config{Username: "default", DialTimeout: 10 * time.Second, MaxOpenConns: 4}, addr)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(conn, "bench_api")
	d := caseQueryData{DB: "bench_api", Status: true, NotClosed: true, Sort: "urgency"}
	args := []any{clickhouse.Named("recs", recStrength()), clickhouse.Named("status", "firing"), clickhouse.Named("limit", uint32(51))}
	var keys []struct {
		caseKey
		KUrgency int64  `ch:"k_urgency"`
		KAmount  string `ch:"k_amount"`
		KRecency int64  `ch:"k_recency"`
	}
	run := func(name string, f func() error) {
		var ds []time.Duration
		for range 20 {
			st := time.Now()
			if err := f(); err != nil {
				t.Fatal(name, err)
			}
			ds = append(ds, time.Since(st))
		}
		slices.Sort(ds)
		fmt.Printf("%-40s p50 %v p95 %v\n", name, ds[10].Round(time.Millisecond), ds[18].Round(time.Millisecond))
	}
	run("keys", func() error {
		keys = keys[:0]
		return s.Conn.Select(ctx, &keys, statements.Text("case_keys", d), args...)
	})
	var page []caseKey
	for _, k := range keys[:50] {
		page = append(page, k.caseKey)
	}
	run("rows", func() error { _, err := s.caseRows(ctx, page...); return err })
	km, ko, ks := []string{}, []string{}, []string{}
	for _, k := range page {
		km, ko, ks = append(km, k.Market), append(ko, k.Order), append(ks, k.Seller)
	}
	rd := caseQueryData{DB: "bench_api", Narrow: true, Keys: true}
	ra := []any{clickhouse.Named("km", km), clickhouse.Named("ko", ko), clickhouse.Named("ks", ks), clickhouse.Named("recs", recStrength())}
	run("case_rows", func() error {
		var rows []CaseSummary
		return s.Conn.Select(ctx, &rows, statements.Text("case_rows", rd), ra...)
	})
	run("case_links", func() error {
		var rows []struct {
			TN    string `ch:"tn"`
			Cases uint64 `ch:"cases"`
		}
		return s.Conn.Select(ctx, &rows, statements.Text("case_links", rd), ra[:3]...)
	})
	if q := os.Getenv("SCRATCH_SQL"); q != "" {
		b, _ := os.ReadFile(q)
		run(q, func() error { var rows []CaseSummary; return s.Conn.Select(ctx, &rows, string(b), ra...) })
	}
	run("select1", func() error {
		var x []struct {
			X uint8 `ch:"x"`
		}
		return s.Conn.Select(ctx, &x, "SELECT 1 AS x")
	})
}

func TestScratchRender(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	os.WriteFile("/tmp/r_case_rows.sql", []byte(statements.Text("case_rows", caseQueryData{DB: "bench_api", Narrow: true, Keys: true})), 0o644)
}
