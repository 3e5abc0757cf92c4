package extract

import (
	"strings"
	"unicode/utf8"
)

// maxExcerpt bounds what a message quotes of a body: enough to recognize a
// value, too little to carry much of anything else.
const maxExcerpt = 100

// minKeyRun is the shortest run of a key's bytes that an excerpt masks: any
// longer piece (a key cut by the excerpt's end, say) would give part of the
// secret away.
const minKeyRun = 8

// excerpt is at most maxExcerpt bytes of v for a message (quote it), as
// valid UTF-8, with every run of minKeyRun or more bytes of key replaced by
// "[redacted]" (a key cut by the excerpt's end included); "…" marks a cut.
func excerpt(v []byte, key Secret) string {
	cut := len(v) > maxExcerpt
	if cut {
		v = v[:maxExcerpt]
		i := len(v) - 1
		for i > len(v)-utf8.UTFMax && !utf8.RuneStart(v[i]) {
			i--
		}
		if !utf8.FullRune(v[i:]) {
			v = v[:i] // not a character cut in the middle
		}
	}
	s := strings.ToValidUTF8(string(v), "\uFFFD")
	if k := key.reveal(); len(k) >= minKeyRun {
		s = maskRuns(s, k)
	}
	if cut {
		s += "…"
	}
	return s
}

// maskRuns replaces every run of s of minKeyRun bytes or more that is also
// in key with "[redacted]".
func maskRuns(s, key string) string {
	masked := make([]bool, len(s))
	any := false
	for i := 0; i+minKeyRun <= len(s); i++ {
		if strings.Contains(key, s[i:i+minKeyRun]) {
			for j := i; j < i+minKeyRun; j++ {
				masked[j] = true
			}
			any = true
		}
	}
	if !any {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !masked[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(redacted)
		for i < len(s) && masked[i] {
			i++
		}
	}
	return b.String()
}
