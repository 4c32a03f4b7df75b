package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/trackwatch/trackwatch/alert"
	"github.com/trackwatch/trackwatch/detect"
)

func alertsCmd(ctx context.Context, env *cmdEnv, c command, args []string) int {
	fs, cf := newFlags(env, c)
	var f alert.Filter
	fs.StringVar(&f.Detector, "detector", "", "only this detector: "+strings.Join(detect.Names, ", "))
	status := fs.String("status", "", "only firing or resolved")
	fs.IntVar(&f.Limit, "limit", 100, "at most this many")
	format := fs.String("format", "table", "output: table, json or ndjson")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	switch {
	case f.Detector != "" && !slices.Contains(detect.Names, f.Detector):
		fmt.Fprintf(env.stderr, "trackwatch alerts: --detector %q is not one of %s\n", f.Detector, strings.Join(detect.Names, ", "))
		return exitUsage
	case *status != "" && *status != string(alert.StatusFiring) && *status != string(alert.StatusResolved):
		fmt.Fprintf(env.stderr, "trackwatch alerts: --status %q is not firing or resolved\n", *status)
		return exitUsage
	case *format != "table" && *format != "json" && *format != "ndjson":
		fmt.Fprintf(env.stderr, "trackwatch alerts: --format %q is not table, json or ndjson\n", *format)
		return exitUsage
	}
	f.Status = alert.Status(*status)
	cfg, _, ok := cf.loadOrExit(env)
	if !ok {
		return exitUsage
	}
	clients, ok := connect(ctx, env, "alerts", cfg)
	if !ok {
		return exitFailure
	}
	defer clients.Close()
	as, err := clients.Alerts().List(ctx, f)
	if err != nil {
		fmt.Fprintf(env.stderr, "trackwatch alerts: %v\n", err)
		return exitFailure
	}
	if !printStructured(env, *format, as) {
		tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STATUS\tDETECTOR\tORDER\tTRACKING NUMBER\tSEVERITY\tRECOMMENDATION\tFIRST DETECTED\tLAST DETECTED")
		for _, a := range as {
			order := a.OrderID
			if order == "" { // a seller's alert (seller_valid_tracking_rate)
				order = "seller " + a.SellerID
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Status, a.Detector, order, a.TrackingNumber, a.Severity, a.Recommendation,
				a.FirstDetectedAt.UTC().Format("2006-01-02 15:04"), a.LastDetectedAt.UTC().Format("2006-01-02 15:04"))
		}
		tw.Flush()
		fmt.Fprintf(env.stdout, "%d alerts\n", len(as))
	}
	return exitOK
}
