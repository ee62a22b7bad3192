package browsertest

import (
	"fmt"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Focus is how a focused element's focus indicator looks.
type Focus struct {
	Element  string  // the focused element, as tag#id.class
	Style    string  // the outline's style ("none" when there is none)
	Width    float64 // the outline's width in CSS pixels
	Color    string  // the outline's colour as computed
	Behind   string  // the colour behind the outline
	Contrast float64 // between the outline and what is behind it (WCAG 2.2 2.4.13 wants 3:1)
}

func (f Focus) String() string {
	return fmt.Sprintf("%s: outline %s %.1fpx %s on %s, contrast %.2f:1", f.Element, f.Style, f.Width, f.Color, f.Behind, f.Contrast)
}

// Visible reports whether the indicator is a solid-enough outline, at
// least 2 px wide, with 3:1 contrast against what is behind it.
func (f Focus) Visible() bool {
	return f.Style != "none" && f.Style != "" && f.Width >= 2 && f.Contrast >= 3
}

// Tab presses the Tab key once, as a keyboard user moves focus.
func Tab() chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(kb.Tab) }

// FocusOf measures the focus indicator of the element the page has
// focused now, or (when sel is not "") of the element sel selects, for
// indicators drawn on another element (a tab's label for its hidden
// radio button). The colour behind the outline is the first background
// of the element's ancestors that is not transparent; translucent
// colours are laid over it, as the browser paints them.
func FocusOf(b *Browser, sel string) Focus {
	b.t.Helper()
	return Run(b, chromedp.Evaluate[Focus](`(() => {
	const sel = `+jsString(sel)+`;
	const el = sel ? document.querySelector(sel) : document.activeElement;
	if (!el) return {Element: "(nothing: " + sel + ")"};
	const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.classList.length ? "." + [...el.classList].join(".") : "");
	const parse = (c) => {
		let m = c.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
		if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
		m = c.match(/^color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)(?: \/ ([\d.]+))?\)$/);
		if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
		return null;
	};
	const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
	let behind = [255, 255, 255, 1];
	const layers = [];
	for (let n = el.parentElement; n; n = n.parentElement) {
		const c = parse(getComputedStyle(n).backgroundColor);
		if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
	}
	for (const c of layers.reverse()) behind = over(c, behind);
	const s = getComputedStyle(el);
	const oc = parse(s.outlineColor) || [0, 0, 0, 0];
	const color = over(oc, behind);
	const lum = (c) => {
		const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const a = lum(color), z = lum(behind);
	const rgb = (c) => "rgb(" + c.slice(0, 3).map(Math.round).join(", ") + ")";
	return {Element: name, Style: s.outlineStyle, Width: parseFloat(s.outlineWidth) || 0, Color: s.outlineColor,
		Behind: rgb(behind), Contrast: (Math.max(a, z) + 0.05) / (Math.min(a, z) + 0.05)};
})()`))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string { return fmt.Sprintf("%q", s) }
