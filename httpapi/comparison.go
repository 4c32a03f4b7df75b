package httpapi

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"strings"

	"github.com/trackwatch/trackwatch/backtest"
	"github.com/trackwatch/trackwatch/detect"
)

// Comparisons reads the latest backtest comparison (trackwatch backtest --vary) for the
// overview; backtest.Comparisons is one.
type Comparisons interface {
	Last(ctx context.Context) (*backtest.Comparison, error)
}

// MountComparisons shows the latest backtest comparison on the overview (before
// MountUI, or at any time: the overview reads it on each request).
func (s *Server) MountComparisons(c Comparisons) { s.comparisons.Store(&c) }

// comparisonView is what the overview shows of the latest comparison: a chart of the
// orders each value flagged per detector, and a table of every figure.
type comparisonView struct {
	C     *backtest.Comparison
	Chart template.HTML
	Err   string
}

// comparison reads the latest comparison; a failure shows on the page instead of
// failing the overview (the rest of it does not depend on it).
func (u *ui) comparison(ctx context.Context) *comparisonView {
	c := u.comparisons()
	if c == nil {
		return nil
	}
	last, err := c.Last(ctx)
	if err != nil {
		u.api.log.Error("overview: latest backtest comparison", "err", err)
		// the store's error stays in the log: it may name servers and credentials' users
		return &comparisonView{Err: "The latest comparison could not be read now; see the server log."}
	}
	if last == nil {
		return &comparisonView{}
	}
	groups := last.Detectors
	var series []string
	values := map[string]map[string]float64{}
	for _, v := range last.Variants {
		name := last.Setting + " = " + detect.FormatValue(v.Value)
		series = append(series, name)
		for _, d := range v.Detectors {
			if values[d.Detector] == nil {
				values[d.Detector] = map[string]float64{}
			}
			values[d.Detector][name] = float64(d.Orders)
		}
	}
	return &comparisonView{C: last, Chart: groupedChart(groups, series, values)}
}

// groupedChart draws, per group, a bar per series side by side, with a legend; labels
// are escaped (they come from data).
func groupedChart(groups, series []string, values map[string]map[string]float64) template.HTML {
	top := 1.0
	for _, g := range groups {
		for _, s := range series {
			top = max(top, values[g][s])
		}
	}
	const w, h, pad = 720, 200, 30
	gw := float64(w-2*pad) / float64(max(len(groups), 1))
	bw := (gw - 12) / float64(max(len(series), 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" class="comparison">`, w, h+40+14*((len(series)+3)/4))
	for gi, g := range groups {
		gx := float64(pad) + float64(gi)*gw + 6
		for si, s := range series {
			v := values[g][s]
			bh := float64(h-pad) * v / top
			x := gx + float64(si)*bw
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %.0f</title></rect>`,
				x+1, float64(h)-bh, bw-2, bh, palette[si%len(palette)], html.EscapeString(g), html.EscapeString(s), v)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%.0f</text>`, x+bw/2, float64(h)-bh-3, v)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>`, gx+(gw-12)/2, h+14, html.EscapeString(g))
	}
	for si, s := range series {
		x, y := pad+(si%4)*170, h+30+14*(si/4)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
			x, y, palette[si%len(palette)], x+14, y+9, html.EscapeString(s))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
