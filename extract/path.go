package extract

import (
	"net/url"
	"strings"
)

// Path is the path of a call from its segments, each escaped on its own
// (url.PathEscape): a route's fixed words pass as they are, and an id the
// vendor sent ("inv%2Fx", "a?x=1#frag", "a b") stays one segment, never
// adding a segment, a query or a fragment to the request. Every provider
// builds its paths with it; a query follows as "?" + url.Values.Encode().
func Path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}
