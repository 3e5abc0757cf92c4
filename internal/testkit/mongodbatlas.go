package testkit

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// AtlasCredentials are what FakeMongoDBAtlas accepts: a service account
// (ClientID and ClientSecret, OAuth 2.0 client credentials) or a
// programmatic API key (PublicKey and PrivateKey, HTTP Digest).
type AtlasCredentials struct {
	ClientID, ClientSecret string
	PublicKey, PrivateKey  string
	TokenTTL               time.Duration // access tokens' lifetime [1h, as Atlas documents]
}

// FakeAtlas is the Atlas Administration API's invoice operations, served
// from a capture folder: the organizations of dir/mongodbatlas/orgs.json,
// the invoices of dir/mongodbatlas/invoice/*.json and of
// dir/mongodbatlas/pending_invoices.json.
//   - GET /api/atlas/v2/orgs/{org}/invoices lists them as the API does:
//     without line items, newest first, filtered by fromDate (startDate on
//     or after) and toDate (endDate on or before), in pages of itemsPerPage
//     (pageNum from 1), with totalCount and self/next/previous links;
//   - GET .../invoices/{id} answers any of them, GET .../invoices/pending
//     the pending file as it is, GET /api/atlas/v2/orgs orgs.json;
//   - every call must ask for application/vnd.atlas.2023-01-01+json and
//     authenticate: a bearer token from POST /api/oauth/token (HTTP Basic
//     client id and secret, grant_type=client_credentials) or an HTTP
//     Digest answer (MD5, qop auth) to a challenge with a fresh nonce.
//
// Refusals carry the ApiError bodies of the specification's examples.
type FakeAtlas struct {
	*FakeAPI
	org      string
	creds    AtlasCredentials
	invoices []atlasFakeInvoice // newest first
	pending  []byte

	mu            sync.Mutex
	tokens        map[string]time.Time // access token → expiry
	nonces        map[string]bool
	tokenRequests int
	challenges    int
	throttle      int
	throttleToken int
}

type atlasFakeInvoice struct {
	id         string
	start, end string
	body       []byte         // the invoice as its own call answers it
	meta       map[string]any // as the list shows it
}

// The ApiError bodies the specification gives as examples of these
// responses.
const (
	atlasUnauthorized = `{"detail":"(This is just an example, the exception may not be related to this endpoint)","error":401,"errorCode":"NOT_ORG_GROUP_CREATOR","reason":"Unauthorized"}`
	atlasNotFound     = `{"detail":"(This is just an example, the exception may not be related to this endpoint) Cannot find resource AWS","error":404,"errorCode":"RESOURCE_NOT_FOUND","reason":"Not Found"}`
	atlasTooMany      = `{"detail":"(This is just an example, the exception may not be related to this endpoint)","error":429,"errorCode":"RATE_LIMITED","reason":"Too Many Requests"}`
	atlasBadRequest   = `{"detail":"(This is just an example, the exception may not be related to this endpoint) No provider AWS exists.","error":400,"errorCode":"VALIDATION_ERROR","reason":"Bad Request"}`
	atlasNotAccepted  = `{"detail":"Invalid accept header or version date.","error":406,"errorCode":"INVALID_VERSION_DATE","reason":"Not Acceptable"}`
)

const atlasMedia = "application/vnd.atlas.2023-01-01+json"

// FakeMongoDBAtlas serves organization org's invoices from dir to callers
// holding creds.
func FakeMongoDBAtlas(t testing.TB, dir, org string, creds AtlasCredentials) *FakeAtlas {
	if creds.TokenTTL == 0 {
		creds.TokenTTL = time.Hour
	}
	f := &FakeAtlas{FakeAPI: &FakeAPI{}, org: org, creds: creds, tokens: map[string]time.Time{}, nonces: map[string]bool{}}
	base := filepath.Join(dir, "mongodbatlas")
	add := func(raw json.RawMessage) {
		var inv map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // amounts listed as they are in the invoice
		if err := dec.Decode(&inv); err != nil {
			t.Fatalf("fake Atlas: %v", err)
		}
		id, _ := inv["id"].(string)
		start, _ := inv["startDate"].(string)
		end, _ := inv["endDate"].(string)
		f.invoices = append(f.invoices, atlasFakeInvoice{id: id, start: start, end: end, body: raw, meta: atlasMeta(inv)})
	}
	files, _ := filepath.Glob(filepath.Join(base, "invoice", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		add(b)
	}
	if b, err := os.ReadFile(filepath.Join(base, "pending_invoices.json")); err == nil {
		f.pending = b
		var page struct{ Results []json.RawMessage }
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("fake Atlas: %v", err)
		}
		for _, raw := range page.Results {
			add(raw)
		}
	}
	slices.SortFunc(f.invoices, func(a, b atlasFakeInvoice) int { return strings.Compare(b.end, a.end) }) // sortBy END_DATE, desc

	orgs, _ := os.ReadFile(filepath.Join(base, "orgs.json"))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth/token", f.token)
	mux.HandleFunc("GET /api/atlas/v2/orgs", f.api(func(w http.ResponseWriter, r *http.Request) { w.Write(orgs) }))
	mux.HandleFunc("GET /api/atlas/v2/orgs/{org}/invoices", f.api(f.list))
	mux.HandleFunc("GET /api/atlas/v2/orgs/{org}/invoices/pending", f.api(func(w http.ResponseWriter, r *http.Request) {
		if f.pending == nil {
			atlasError(w, http.StatusNotFound, atlasNotFound)
			return
		}
		w.Write(f.pending)
	}))
	mux.HandleFunc("GET /api/atlas/v2/orgs/{org}/invoices/{id}", f.api(func(w http.ResponseWriter, r *http.Request) {
		for _, inv := range f.invoices {
			if inv.id == r.PathValue("id") {
				w.Write(inv.body)
				return
			}
		}
		atlasError(w, http.StatusNotFound, atlasNotFound)
	}))
	f.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(f.Close)
	return f
}

// atlasMeta is an invoice as the list shows it (BillingInvoiceMetadata):
// without line items, payments and refunds, its linked invoices alike.
func atlasMeta(inv map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range inv {
		switch k {
		case "lineItems", "payments", "refunds":
		case "linkedInvoices":
			var linked []any
			for _, l := range v.([]any) {
				linked = append(linked, atlasMeta(l.(map[string]any)))
			}
			m[k] = linked
		default:
			m[k] = v
		}
	}
	return m
}

// Throttle answers the next n API calls 429 with Retry-After: 1.
func (f *FakeAtlas) Throttle(n int) {
	f.mu.Lock()
	f.throttle = n
	f.mu.Unlock()
}

// ThrottleTokens answers the next n token requests 429 with Retry-After: 1.
func (f *FakeAtlas) ThrottleTokens(n int) {
	f.mu.Lock()
	f.throttleToken = n
	f.mu.Unlock()
}

// RevokeTokens makes every access token issued so far invalid.
func (f *FakeAtlas) RevokeTokens() {
	f.mu.Lock()
	clear(f.tokens)
	f.mu.Unlock()
}

// Counts says how many tokens were issued and digest challenges sent.
func (f *FakeAtlas) Counts() (tokenRequests, challenges int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenRequests, f.challenges
}

func atlasError(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write([]byte(body))
}

func (f *FakeAtlas) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	throttled := f.throttleToken > 0
	if throttled {
		f.throttleToken--
	}
	f.mu.Unlock()
	if throttled {
		w.Header().Set("Retry-After", "1")
		atlasError(w, http.StatusTooManyRequests, atlasTooMany)
		return
	}
	id, secret, ok := r.BasicAuth()
	// OAuth 2.0 form-encodes the client id and secret before Basic auth.
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"unsupported_grant_type"}`))
		return
	}
	if !ok || f.creds.ClientID == "" || id != f.creds.ClientID || secret != f.creds.ClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client","error_description":"Invalid client credentials"}`))
		return
	}
	tok := "atlas-token-" + atlasRandom(12)
	f.mu.Lock()
	f.tokenRequests++
	f.tokens[tok] = time.Now().Add(f.creds.TokenTTL)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":%d,"token_type":"Bearer"}`, tok, int(f.creds.TokenTTL/time.Second))
}

// api wraps an operation in the checks every call passes: authentication,
// rate limit, version, organization.
func (f *FakeAtlas) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.authenticated(w, r) {
			return
		}
		f.mu.Lock()
		throttled := f.throttle > 0
		if throttled {
			f.throttle--
		}
		f.mu.Unlock()
		if throttled {
			w.Header().Set("Retry-After", "1")
			atlasError(w, http.StatusTooManyRequests, atlasTooMany)
			return
		}
		if r.Header.Get("Accept") != atlasMedia {
			atlasError(w, http.StatusNotAcceptable, atlasNotAccepted)
			return
		}
		if org := r.PathValue("org"); org != "" && org != f.org {
			atlasError(w, http.StatusUnauthorized, atlasUnauthorized)
			return
		}
		f.record(r)
		w.Header().Set("Content-Type", atlasMedia)
		h(w, r)
	}
}

func (f *FakeAtlas) authenticated(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		f.mu.Lock()
		exp, live := f.tokens[tok]
		f.mu.Unlock()
		if live && time.Now().Before(exp) {
			return true
		}
		atlasError(w, http.StatusUnauthorized, atlasUnauthorized)
		return false
	}
	if params, ok := strings.CutPrefix(h, "Digest "); ok && f.creds.PublicKey != "" && f.digestValid(r, params) {
		return true
	}
	// Any other caller gets a digest challenge, as Atlas answers.
	nonce := atlasRandom(16)
	f.mu.Lock()
	f.nonces[nonce] = true
	f.challenges++
	f.mu.Unlock()
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Digest realm="MMS Public API", domain="", nonce=%q, algorithm=MD5, qop="auth", stale=false`, nonce))
	atlasError(w, http.StatusUnauthorized, atlasUnauthorized)
	return false
}

// digestValid checks an HTTP Digest answer (MD5, qop=auth) against the key.
func (f *FakeAtlas) digestValid(r *http.Request, params string) bool {
	p := map[string]string{}
	for _, kv := range strings.Split(params, ", ") {
		k, v, _ := strings.Cut(kv, "=")
		p[k] = strings.Trim(v, `"`)
	}
	f.mu.Lock()
	known := f.nonces[p["nonce"]]
	f.mu.Unlock()
	if !known || p["username"] != f.creds.PublicKey || p["uri"] != r.URL.RequestURI() || p["qop"] != "auth" || p["realm"] != "MMS Public API" {
		return false
	}
	md := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	ha1 := md(f.creds.PublicKey + ":" + p["realm"] + ":" + f.creds.PrivateKey)
	ha2 := md(r.Method + ":" + p["uri"])
	return p["response"] == md(strings.Join([]string{ha1, p["nonce"], p["nc"], p["cnonce"], p["qop"], ha2}, ":"))
}

func (f *FakeAtlas) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(name string, def, lo, hi int) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= lo && n <= hi
	}
	size, ok1 := num("itemsPerPage", 100, 1, 500)
	page, ok2 := num("pageNum", 1, 1, 1<<20)
	from, to := q.Get("fromDate"), q.Get("toDate")
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); d != "" && err != nil {
			ok1 = false
		}
	}
	if !ok1 || !ok2 {
		atlasError(w, http.StatusBadRequest, atlasBadRequest)
		return
	}
	var all []map[string]any
	for _, inv := range f.invoices {
		if (from == "" || inv.start[:10] >= from) && (to == "" || inv.end[:10] <= to) {
			all = append(all, inv.meta)
		}
	}
	lo, hi := min((page-1)*size, len(all)), min(page*size, len(all))
	link := func(n int, rel string) map[string]any {
		q := r.URL.Query()
		q.Set("pageNum", strconv.Itoa(n))
		return map[string]any{"href": "https://cloud.mongodb.com" + r.URL.Path + "?" + q.Encode(), "rel": rel}
	}
	links := []any{}
	if page > 1 {
		links = append(links, link(page-1, "previous"))
	}
	links = append(links, link(page, "self"))
	if hi < len(all) {
		links = append(links, link(page+1, "next"))
	}
	body := map[string]any{"links": links, "results": append([]map[string]any{}, all[lo:hi]...)}
	if q.Get("includeCount") != "false" {
		body["totalCount"] = len(all)
	}
	b, _ := json.MarshalIndent(body, "", "  ")
	w.Write(b)
}

func atlasRandom(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func init() {
	Oracles["mongodbatlas"] = atlasTotals
	// A service account, the credential Atlas recommends; the organization
	// comes from listOrgs.
	Live["mongodbatlas"] = func(t testing.TB, dir string, wrap func(string) string) map[string]string {
		const id, secret = "mdb_sa_id_LIVE", "mdb_sa_sk_LIVE_atlas_7f3a9c"
		var orgs struct{ Results []struct{ ID string } }
		readJSON(t, filepath.Join(dir, "mongodbatlas", "orgs.json"), &orgs)
		if len(orgs.Results) != 1 {
			t.Fatalf("fake Atlas: %d organizations in %s, want the one it serves", len(orgs.Results), dir)
		}
		f := FakeMongoDBAtlas(t, dir, orgs.Results[0].ID, AtlasCredentials{ClientID: id, ClientSecret: secret})
		return map[string]string{"ATLAS_CLIENT_ID": id, "ATLAS_CLIENT_SECRET": secret, "ATLAS_API_URL": wrap(f.URL)}
	}
}

// atlasTotals sums amountBilledCents / 100 per billing month (USD: Atlas
// documents every amount in cents of a US dollar) over every invoice of
// the captures, linked ones included, each once.
func atlasTotals(t testing.TB, dir string) []Total {
	base := filepath.Join(dir, "mongodbatlas")
	var raws []json.RawMessage
	files, _ := filepath.Glob(filepath.Join(base, "invoice", "*.json"))
	for _, f := range files {
		var raw json.RawMessage
		readJSON(t, f, &raw)
		raws = append(raws, raw)
	}
	if _, err := os.Stat(filepath.Join(base, "pending_invoices.json")); err == nil {
		var page struct{ Results []json.RawMessage }
		readJSON(t, filepath.Join(base, "pending_invoices.json"), &page)
		raws = append(raws, page.Results...)
	}
	sums, seen := map[[2]string]*big.Rat{}, map[string]bool{}
	for len(raws) > 0 {
		var inv struct {
			ID        string            `json:"id"`
			StartDate string            `json:"startDate"`
			Billed    *json.Number      `json:"amountBilledCents"`
			Linked    []json.RawMessage `json:"linkedInvoices"`
		}
		dec := json.NewDecoder(bytes.NewReader(raws[0]))
		dec.UseNumber()
		if err := dec.Decode(&inv); err != nil {
			t.Fatalf("fake Atlas: %v", err)
		}
		raws = append(raws[1:], inv.Linked...)
		if seen[inv.ID] {
			continue
		}
		seen[inv.ID] = true
		cents := "0"
		if inv.Billed != nil {
			cents = string(*inv.Billed)
		}
		k := [2]string{inv.StartDate[:7], "USD"}
		if sums[k] == nil {
			sums[k] = new(big.Rat)
		}
		sums[k].Add(sums[k], new(big.Rat).Quo(ratOf(t, cents), big.NewRat(100, 1)))
	}
	return sortedTotals("mongodbatlas", sums)
}
