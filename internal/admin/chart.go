package admin

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/herald-news/herald/internal/i18n"
)

// series is one line of a chart.
type series struct {
	Name   string
	Class  string // CSS class that colours the line and its legend swatch
	Values []float64
}

// chart draws a line chart as inline SVG: one x position per label, a
// y axis from zero to a rounded maximum, light grid lines, and a legend.
// area fills under the first series. Text is escaped. Labels are written
// in their own location: the caller puts them in the newsroom's zone.
//
// A chart is also told in words, in l's language, for whoever cannot see
// it: the picture is named title with each line summed up (first, last
// and highest value), and every figure follows in a table behind a
// disclosure, one row per label.
func chart(l *i18n.Localizer, title string, labels []time.Time, layout string, ss []series, area bool) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 240.0, 48.0, 12.0, 16.0, 28.0
	n := len(labels)
	var b strings.Builder
	b.WriteString(`<figure class="chart-figure">`)
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">`,
		w, h+24, template.HTMLEscapeString(chartSummary(l, title, ss)))
	maxV := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			maxV = math.Max(maxV, v)
		}
	}
	top2 := niceMax(maxV)
	plotW, plotH := w-left-right, h-top-bottom
	x := func(i int) float64 {
		if n <= 1 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return top + plotH - plotH*v/top2 }
	for i := 0; i <= 4; i++ {
		v := top2 * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, left, w-right, y(v), y(v))
		fmt.Fprintf(&b, `<text class="axis" x="%g" y="%.1f" text-anchor="end">%s</text>`, left-8, y(v)+4, template.HTMLEscapeString(short(v)))
	}
	if n > 0 {
		for _, i := range uniq([]int{0, n / 2, n - 1}) {
			anchor := "middle"
			if i == 0 && n > 1 {
				anchor = "start"
			} else if i == n-1 && n > 1 {
				anchor = "end"
			}
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%g" text-anchor="%s">%s</text>`, x(i), h-8, anchor,
				template.HTMLEscapeString(labels[i].Format(layout)))
		}
	}
	for si, s := range ss {
		var pts strings.Builder
		for i, v := range s.Values {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(v))
		}
		if area && si == 0 && len(s.Values) > 0 {
			fmt.Fprintf(&b, `<polygon class="area %s" points="%.1f,%.1f %s%.1f,%.1f"/>`, s.Class, x(0), y(0), pts.String(), x(len(s.Values)-1), y(0))
		}
		fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, s.Class, strings.TrimSpace(pts.String()))
		if len(s.Values) == 1 {
			fmt.Fprintf(&b, `<circle class="dot %s" cx="%.1f" cy="%.1f" r="3"/>`, s.Class, x(0), y(s.Values[0]))
		}
	}
	lx := left
	for _, s := range ss {
		fmt.Fprintf(&b, `<rect class="swatch %s" x="%g" y="%g" width="10" height="10" rx="2"/>`, s.Class, lx, h+10)
		fmt.Fprintf(&b, `<text class="legend" x="%g" y="%g">%s</text>`, lx+14, h+19, template.HTMLEscapeString(s.Name))
		lx += 28 + 7*float64(len(s.Name))
	}
	b.WriteString(`</svg>`)
	chartTable(&b, l, title, labels, layout, ss)
	b.WriteString(`</figure>`)
	return template.HTML(b.String())
}

// chartSummary is a chart's accessible name: its title, then one sentence
// per line ("Subscribers: from 3 to 40, highest 40").
func chartSummary(l *i18n.Localizer, title string, ss []series) string {
	parts := []string{title}
	for _, s := range ss {
		if len(s.Values) == 0 {
			continue
		}
		hi := s.Values[0]
		for _, v := range s.Values {
			hi = math.Max(hi, v)
		}
		parts = append(parts, l.T("admin.a11y.chart_series", "Series", s.Name,
			"First", figure(s.Values[0]), "Last", figure(s.Values[len(s.Values)-1]), "Highest", figure(hi)))
	}
	return strings.Join(parts, ". ")
}

// chartTable writes every figure of a chart as a table, folded away
// behind a summary line so it costs sighted readers no room.
func chartTable(b *strings.Builder, l *i18n.Localizer, title string, labels []time.Time, layout string, ss []series) {
	esc := template.HTMLEscapeString
	fmt.Fprintf(b, `<details class="chart-data"><summary>%s</summary><table><caption class="sr-only">%s</caption><thead><tr><th scope="col">%s</th>`,
		esc(l.T("admin.a11y.chart_figures")), esc(title), esc(l.T("admin.a11y.chart_when")))
	for _, s := range ss {
		fmt.Fprintf(b, `<th scope="col" class="num">%s</th>`, esc(s.Name))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, t := range labels {
		fmt.Fprintf(b, `<tr><th scope="row">%s</th>`, esc(t.Format(layout)))
		for _, s := range ss {
			v := ""
			if i < len(s.Values) {
				v = figure(s.Values[i])
			}
			fmt.Fprintf(b, `<td class="num">%s</td>`, esc(v))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></details>`)
}

// figure writes a chart value in full: whole numbers without decimals,
// others with one (an average rating of 2.4).
func figure(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 4 {
		return 4
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func uniq(xs []int) []int {
	var out []int
	for _, x := range xs {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}
