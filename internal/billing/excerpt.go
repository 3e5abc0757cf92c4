package billing

import (
	"strings"
	"unicode/utf8"
)

// MaxExcerpt bounds what a message quotes of a body: enough to recognize a
// value, too little to carry much of anything else.
const MaxExcerpt = 100

// MinKeyRun is the shortest run of a key's bytes that Mask hides: any
// longer piece (a key cut by an excerpt's end, say) would give part of the
// secret away.
const MinKeyRun = 8

// Redacted stands where a secret was.
const Redacted = "[redacted]"

// Excerpt is at most MaxExcerpt bytes of v for a message (quote it), as
// valid UTF-8; "…" marks a cut. mask, if not nil, then hides the secrets
// the body was fetched with (Mask): a key cut by the excerpt's end
// included.
func Excerpt(v []byte, mask func(string) string) string {
	cut := len(v) > MaxExcerpt
	if cut {
		v = v[:MaxExcerpt]
		i := len(v) - 1
		for i > len(v)-utf8.UTFMax && !utf8.RuneStart(v[i]) {
			i--
		}
		if !utf8.FullRune(v[i:]) {
			v = v[:i] // not a character cut in the middle
		}
	}
	s := strings.ToValidUTF8(string(v), "\uFFFD")
	if mask != nil {
		s = mask(s)
	}
	if cut {
		s += "…"
	}
	return s
}

// Mask replaces every run of s of MinKeyRun bytes or more that is also in
// one of keys with Redacted. Keys shorter than MinKeyRun are left to the
// callers that replace them whole.
func Mask(s string, keys ...string) string {
	var masked []bool
	for _, key := range keys {
		if len(key) < MinKeyRun {
			continue
		}
		for i := 0; i+MinKeyRun <= len(s); i++ {
			if strings.Contains(key, s[i:i+MinKeyRun]) {
				if masked == nil {
					masked = make([]bool, len(s))
				}
				for j := i; j < i+MinKeyRun; j++ {
					masked[j] = true
				}
			}
		}
	}
	if masked == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !masked[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(Redacted)
		for i < len(s) && masked[i] {
			i++
		}
	}
	return b.String()
}
