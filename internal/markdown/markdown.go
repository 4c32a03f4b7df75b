// Package markdown reads what the repository's Markdown files point at: the anchors
// GitHub gives their headings and the links they hold, for the tests that keep the docs'
// links (and the alerting rules' runbook links) true.
package markdown

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

var (
	heading    = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	fence      = regexp.MustCompile("^\\s*(```|~~~)")
	inlineLink = regexp.MustCompile(`!?\[([^\]]*)\]\(([^)]*)\)`)
)

// lines calls fn with each line of md outside fenced code blocks.
func lines(md string, fn func(line string)) {
	inFence := ""
	for _, line := range strings.Split(md, "\n") {
		if m := fence.FindStringSubmatch(line); m != nil {
			switch {
			case inFence == "":
				inFence = m[1]
			case strings.HasPrefix(strings.TrimSpace(line), inFence):
				inFence = ""
			}
			continue
		}
		if inFence == "" {
			fn(line)
		}
	}
}

// HeadingAnchors is the set of anchors GitHub gives the headings of a Markdown file:
// the heading's text lowercased, links reduced to their text, punctuation dropped
// (letters, digits, spaces, '-' and '_' stay), spaces turned into '-', and "-1", "-2",
// ... after repeats. Lines in fenced code blocks are no headings.
func HeadingAnchors(md string) map[string]bool {
	anchors, count := map[string]bool{}, map[string]int{}
	lines(md, func(line string) {
		m := heading.FindStringSubmatch(line)
		if m == nil {
			return
		}
		text := strings.ToLower(inlineLink.ReplaceAllString(m[1], "$1"))
		var b strings.Builder
		for _, c := range text {
			switch {
			case c == ' ':
				b.WriteRune('-')
			case c == '-' || c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c):
				b.WriteRune(c)
			}
		}
		a := b.String()
		if n := count[a]; n > 0 {
			count[a]++
			a = fmt.Sprintf("%s-%d", a, n)
		} else {
			count[a] = 1
		}
		anchors[a] = true
	})
	return anchors
}

// Links are the targets of the inline links and images of a Markdown file outside code
// (blocks and `spans`), in order.
func Links(md string) []string {
	var out []string
	code := regexp.MustCompile("`[^`]*`")
	lines(md, func(line string) {
		for _, m := range inlineLink.FindAllStringSubmatch(code.ReplaceAllString(line, ""), -1) {
			target, _, _ := strings.Cut(strings.TrimSpace(m[2]), " ") // drop a "title"
			out = append(out, target)
		}
	})
	return out
}
