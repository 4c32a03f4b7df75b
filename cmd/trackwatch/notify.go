package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/alert/notify"
	"github.com/trackwatch/trackwatch/alert/notify/webhook"
	"github.com/trackwatch/trackwatch/secret"
)

const receiversUsage = `Usage: trackwatch receivers [list] [--format table|json]
       trackwatch receivers enable NAME | disable NAME
       trackwatch receivers new-secret
       trackwatch receivers serve-test [--listen HOST:PORT] [--secret whsec_... | --secret-file F] [--fail N]

list shows the configured receivers (notify.receivers) with their type, endpoint (the
URL without its path, which may be a secret), whether they are disabled (a receiver
that answered 410 Gone is, until 'enable'), and how many changes were delivered, are
being retried, or failed for good. new-secret prints a fresh Standard Webhooks signing
secret for a webhook receiver. serve-test is a local webhook receiver for trying
trackwatch out: it verifies each delivery's signature with the official Standard
Webhooks library and prints it; --fail N answers 503 to the first N requests, to watch
the retries.
`

func receiversCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs, cf := newFlags(env, c)
	format := fs.String("format", "table", "list: table or json")
	listen := fs.String("listen", "127.0.0.1:9095", "serve-test: `host:port` to listen on")
	secretFlag := fs.String("secret", "", "serve-test: the receiver's signing `secret` (whsec_...)")
	secretFile := fs.String("secret-file", "", "serve-test: read the secret from this `file`")
	failFirst := fs.Int("fail", 0, "serve-test: answer 503 to the first N requests")
	var name string
	switch sub {
	case "enable", "disable":
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(env.stderr, "trackwatch receivers %s: name the receiver\n", sub)
			fs.Usage()
			return exitUsage
		}
		name, args = args[0], args[1:]
	case "list", "new-secret", "serve-test":
	default:
		fmt.Fprintf(env.stderr, "trackwatch receivers: unknown subcommand %q\n", sub)
		fs.Usage()
		return exitUsage
	}
	if ok, code := parse(fs, args); !ok {
		return code
	}
	switch sub {
	case "new-secret":
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		fmt.Fprintln(env.stdout, "whsec_"+base64.StdEncoding.EncodeToString(key))
		return exitOK
	case "serve-test":
		s := *secretFlag
		if *secretFile != "" {
			b, err := os.ReadFile(*secretFile)
			if err != nil {
				fmt.Fprintf(env.stderr, "trackwatch receivers serve-test: %v\n", err)
				return exitUsage
			}
			s = strings.TrimSpace(string(b))
		}
		if _, err := notify.DecodeSecret(secret.String(s)); err != nil {
			fmt.Fprintf(env.stderr, "trackwatch receivers serve-test: --secret %v\n", err)
			return exitUsage
		}
		return serveTest(ctx, env, *listen, s, *failFirst)
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(env.stderr, "trackwatch receivers: --format %q is not table or json\n", *format)
		return exitUsage
	}
	cfg, _, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	var names []string
	for _, r := range cfg.Notify.Receivers {
		names = append(names, r.Name)
	}
	if name != "" && !slices.Contains(names, name) {
		fmt.Fprintf(env.stderr, "trackwatch receivers %s: no receiver %q in notify.receivers (receivers: %s)\n", sub, name, strings.Join(names, ", "))
		return exitUsage
	}
	clients, ok := connect(ctx, env, "receivers", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	db := cfg.ClickHouse.Database
	if name != "" {
		reason := "enabled with trackwatch receivers enable"
		if sub == "disable" {
			reason = "disabled with trackwatch receivers disable"
		}
		if err := notify.SetDisabled(ctx, clients.ClickHouse, db, name, sub == "disable", reason); err != nil {
			fmt.Fprintf(env.stderr, "trackwatch receivers: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(env.stdout, "receiver %s %sd\n", name, sub)
		return exitOK
	}
	st, err := notify.Statuses(ctx, clients.ClickHouse, db, nonNilStrings(names))
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch receivers: %v\n", err)
		return exitFailure
	}
	type row struct {
		notify.ReceiverStatus
		Type     string `json:"type"`
		Endpoint string `json:"endpoint"`
	}
	rows := make([]row, len(st))
	for i, s := range st {
		rows[i] = row{s, cfg.Notify.Receivers[i].Type, cfg.Notify.Receivers[i].Endpoint()}
	}
	if !printStructured(env, *format, rows) {
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tTYPE\tENDPOINT\tSTATE\tDELIVERED\tRETRYING\tFAILED\tLAST DELIVERED")
		for _, r := range rows {
			state, last := "enabled", "-"
			if r.Disabled {
				state = "disabled: " + r.Reason
			}
			if r.LastDeliveredAt != nil {
				last = r.LastDeliveredAt.UTC().Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.Name, r.Type, r.Endpoint, state, r.Delivered, r.Retrying, r.Failed, last)
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "%d receivers\n", len(rows))
	}
	return exitOK
}

// serveTest is a webhook receiver that verifies and prints deliveries until ctx ends.
func serveTest(ctx context.Context, env *cmdEnv, listen, secret string, failFirst int) int {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch receivers serve-test: %v\n", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch receivers serve-test: %v\n", err)
		return exitFailure
	}
	var requests atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if requests.Add(1) <= int64(failFirst) {
			fmt.Fprintf(env.stdout, "%s  answered 503 on purpose (--fail %d) to %s\n", time.Now().UTC().Format(time.TimeOnly), failFirst, r.Header.Get("webhook-id"))
			w.Header().Set("Retry-After", "1")
			http.Error(w, "failing on purpose", http.StatusServiceUnavailable)
			return
		}
		if err := wh.Verify(body, r.Header); err != nil {
			fmt.Fprintf(env.stdout, "%s  REJECTED %s: %v\n", time.Now().UTC().Format(time.TimeOnly), r.Header.Get("webhook-id"), err)
			http.Error(w, "signature does not verify", http.StatusUnauthorized)
			return
		}
		var changes []alert.Change
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err == nil && p.Type != webhook.TypeBatch {
			changes = append(changes, p.Data)
		}
		var b webhook.BatchPayload
		if err := json.Unmarshal(body, &b); err == nil && b.Type == webhook.TypeBatch {
			for _, c := range b.Data.Changes {
				changes = append(changes, c.Data)
			}
		}
		for _, c := range changes {
			fmt.Fprintf(env.stdout, "%s  verified %-14s %-8s %-23s order %-32s %-18s %-17s webhook-id %s\n", time.Now().UTC().Format(time.TimeOnly),
				p.Type, c.Kind, c.Detector, c.OrderID, c.TrackingNumber, c.Recommendation, r.Header.Get("webhook-id"))
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(env.stdout, "serve-test: verifying Standard Webhooks deliveries on http://%s/ (Ctrl-C stops)\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(env.stderr, "trackwatch receivers serve-test: %v\n", err)
		return exitFailure
	}
	return exitOK
}

const notificationsUsage = `Usage: trackwatch notifications list [--receiver R] [--failed] [--limit N] [--format table|json]
       trackwatch notifications replay --receiver R --since TIME [--until TIME] [--dry-run]

list shows the delivery state of alert changes per receiver, latest attempt first:
outcome (delivered, retry, failed, gone, replay), attempts, the last HTTP status and
error, the webhook-id sent, and when the next retry is due. --failed shows only the
changes not delivered (retrying, failed for good, or held by a gone receiver).
replay makes the changes logged in [--since, --until) that were sent or tried to
receiver R due again, whatever their outcome: they are delivered again with the same
webhook-id (receivers deduplicate on it), and max_age counts from the replay.
`

func notificationsCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	sub, code, ok := subcommand(env, c, args, "list", "replay")
	if !ok {
		return code
	}
	fs, cf := newFlags(env, c)
	var f notify.ListFilter
	fs.StringVar(&f.Receiver, "receiver", "", "only this receiver (replay: required)")
	fs.BoolVar(&f.Failed, "failed", false, "list: only changes not delivered")
	fs.IntVar(&f.Limit, "limit", 100, "list: at most this many")
	format := fs.String("format", "table", "list: table or json")
	sinceFlag := fs.String("since", "", "replay: changes logged from this RFC 3339 time (required)")
	untilFlag := fs.String("until", "", "replay: changes logged before this RFC 3339 time (default now)")
	dryRun := fs.Bool("dry-run", false, "replay: count, replay nothing")
	if ok, code := parse(fs, args[1:]); !ok {
		return code
	}
	now := time.Now().UTC()
	var since, until time.Time
	if sub == "replay" {
		if f.Receiver == "" || *sinceFlag == "" {
			fmt.Fprintln(env.stderr, "trackwatch notifications replay: --receiver and --since are required")
			fs.Usage()
			return exitUsage
		}
		var err error
		if since, err = time.Parse(time.RFC3339, *sinceFlag); err != nil {
			fmt.Fprintf(env.stderr, "trackwatch notifications: --since %q is not RFC 3339 (e.g. 2026-11-01T00:00:00Z)\n", *sinceFlag)
			return exitUsage
		}
		until = now
		if *untilFlag != "" {
			if until, err = time.Parse(time.RFC3339, *untilFlag); err != nil {
				fmt.Fprintf(env.stderr, "trackwatch notifications: --until %q is not RFC 3339\n", *untilFlag)
				return exitUsage
			}
		}
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(env.stderr, "trackwatch notifications: --format %q is not table or json\n", *format)
		return exitUsage
	}
	cfg, _, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	clients, ok := connect(ctx, env, "notifications", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	db := cfg.ClickHouse.Database
	if sub == "replay" {
		n, err := notify.Replay(ctx, clients.ClickHouse, db, f.Receiver, since, until, now, *dryRun)
		if err != nil {
			fmt.Fprintf(env.stderr, "trackwatch notifications: %v\n", err)
			return exitFailure
		}
		verb := "replayed"
		if *dryRun {
			verb = "would replay"
		}
		fmt.Fprintf(env.stdout, "%s %d changes to %s (logged %s to %s); a running trackwatch delivers them at its next poll\n",
			verb, n, f.Receiver, since.Format(time.RFC3339), until.Format(time.RFC3339))
		return exitOK
	}
	ns, err := notify.List(ctx, clients.ClickHouse, db, f)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch notifications: %v\n", err)
		return exitFailure
	}
	if !printStructured(env, *format, ns) {
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RECEIVER\tOUTCOME\tATTEMPTS\tSTATUS\tKIND\tDETECTOR\tORDER\tLAST ATTEMPT\tNEXT\tWEBHOOK-ID\tERROR")
		for _, n := range ns {
			next := "-"
			if n.NextAttemptAt != nil && n.NextAttemptAt.Unix() > 0 && (n.Outcome == notify.OutcomeRetry || n.Outcome == notify.OutcomeReplay) {
				next = n.NextAttemptAt.UTC().Format("01-02 15:04:05")
			}
			errText := n.Error
			if len(errText) > 80 {
				errText = errText[:77] + "..."
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Receiver, n.Outcome, n.Attempts, n.StatusCode, n.Kind, n.Detector,
				n.OrderID, n.LastAttemptAt.UTC().Format("01-02 15:04:05"), next, n.MessageID, errText)
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "%d notifications\n", len(ns))
	}
	return exitOK
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
