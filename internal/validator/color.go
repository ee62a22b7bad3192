package validator

import (
	"math"
	"regexp"
	"strconv"

	"github.com/herald-news/herald/internal/model"
)

// colorRule is a CSS hex colour: #rgb or #rrggbb.
var colorRule = regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)

// IsColor reports whether s is a CSS hex colour such as #9c2f1f (#rgb or
// #rrggbb); "" is not.
func IsColor(s string) bool { return colorRule.MatchString(s) }

// ThemeColors are the default theme's own colours, which an empty brand
// colour leaves in place.
var ThemeColors = model.Colors{Accent: "#9c2f1f", Text: "#1f2328", Background: "#ffffff"}

// MinContrast is WCAG 2's AA contrast ratio for body text, which links,
// headings and button labels need too.
const MinContrast = 4.5

// Colors checks a publication's brand colours: each empty (the theme's own)
// or a CSS hex colour, and readable: the text and the accent (links,
// headings) reach MinContrast on the background. Buttons take whichever
// ink reads best on the accent (Ink), and dark mode uses the theme's dark
// palette (Herald's own pages keep their own accent where the brand's
// would not read), so these are the colours a reader meets in light mode.
func Colors(c model.Colors) error {
	var es Errors
	for _, f := range []struct{ field, v string }{{"accent", c.Accent}, {"text", c.Text}, {"background", c.Background}} {
		if f.v != "" && !IsColor(f.v) {
			es = append(es, withMessage(fieldError(f.field, "admin.validator.color", "Value", q(f.v)),
				"The "+f.field+" colour "+q(f.v)+" is not a hex value such as #9c2f1f."))
		}
	}
	if len(es) > 0 {
		return es
	}
	eff := ThemeColors
	for _, p := range []struct{ in, out *string }{{&c.Accent, &eff.Accent}, {&c.Text, &eff.Text}, {&c.Background, &eff.Background}} {
		if *p.in != "" {
			*p.out = *p.in
		}
	}
	least := strconv.FormatFloat(MinContrast, 'f', 1, 64)
	if r := Contrast(themeMuted, eff.Background); r < MinContrast {
		es = append(es, fieldError("background", "admin.validator.background_contrast", "Background", eff.Background, "Ratio", ratio(r), "Min", least))
	}
	for _, k := range []struct{ field, key, fg string }{
		{"text", "admin.validator.text_contrast", eff.Text}, {"accent", "admin.validator.accent_contrast", eff.Accent},
	} {
		if r := Contrast(k.fg, eff.Background); r < MinContrast {
			es = append(es, fieldError(k.field, k.key, "Color", k.fg, "Ratio", ratio(r), "Background", eff.Background, "Min", least))
		}
	}
	return es.Err()
}

// themeMuted is the grey of the default theme's notes (dates, credits,
// footer), which the background must let read.
const themeMuted = "#5f6368"

// ratio writes a contrast ratio with two decimals, never rounding a ratio
// that fails up to one that passes.
func ratio(r float64) string { return strconv.FormatFloat(math.Floor(r*100)/100, 'f', 2, 64) }

// Contrast is the WCAG 2 contrast ratio of two hex colours, from 1 (the
// same luminance) to 21 (black on white). A colour that is not hex counts
// as black.
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// Ink is the text colour for a label on a background of colour bg: black
// or white, whichever contrasts more (one of them always reaches 4.5:1).
func Ink(bg string) string {
	if Contrast("#000000", bg) >= Contrast("#ffffff", bg) {
		return "#000000"
	}
	return "#ffffff"
}

// luminance is WCAG 2's relative luminance of a hex colour.
func luminance(hex string) float64 {
	if !IsColor(hex) {
		return 0
	}
	h := hex[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}
