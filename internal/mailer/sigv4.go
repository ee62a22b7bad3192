package mailer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// sigV4 signs AWS requests with Signature Version 4: a canonical form of
// the request is hashed, and the hash is signed with a key derived from
// the secret for one day, region and service. The server recomputes the
// same signature; any change to a signed part of the request breaks it.
type sigV4 struct {
	AccessKeyID, Secret, SessionToken string
	Region, Service                   string
}

const sigV4Algorithm = "AWS4-HMAC-SHA256"

// sign adds X-Amz-Date (and X-Amz-Security-Token with temporary
// credentials) and the Authorization header to req, whose body is body.
func (s sigV4) sign(req *http.Request, body []byte, now time.Time) {
	now = now.UTC()
	stamp := now.Format("20060102T150405Z")
	day := stamp[:8]
	req.Header.Set("X-Amz-Date", stamp)
	if s.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", s.SessionToken)
	}
	canonical, signed := canonicalRequest(req, body)
	scope := day + "/" + s.Region + "/" + s.Service + "/aws4_request"
	toSign := sigV4Algorithm + "\n" + stamp + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	key := signingKey(s.Secret, day, s.Region, s.Service)
	sig := hex.EncodeToString(hmacSHA256(key, []byte(toSign)))
	req.Header.Set("Authorization", sigV4Algorithm+" Credential="+s.AccessKeyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// canonicalRequest is the request in the form SigV4 hashes: method, path,
// sorted query, the signed headers (host, content-type and every x-amz-*
// header, lower-case, sorted, values trimmed) and the body's SHA-256. It
// also returns the signed header names, as the Authorization header
// lists them.
func canonicalRequest(req *http.Request, body []byte) (canonical, signed string) {
	headers := map[string]string{"host": req.Host}
	if req.Host == "" {
		headers["host"] = req.URL.Host
	}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if lk == "content-type" || strings.HasPrefix(lk, "x-amz-") {
			vals := make([]string, len(vs))
			for i, v := range vs {
				vals[i] = strings.Join(strings.Fields(v), " ")
			}
			headers[lk] = strings.Join(vals, ",")
		}
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(req.Method + "\n")
	b.WriteString(canonicalPath(req.URL) + "\n")
	b.WriteString(canonicalQuery(req.URL.Query()) + "\n")
	for _, k := range names {
		b.WriteString(k + ":" + headers[k] + "\n")
	}
	signed = strings.Join(names, ";")
	b.WriteString("\n" + signed + "\n")
	b.WriteString(hexSHA256(body))
	return b.String(), signed
}

// canonicalPath URI-encodes each path segment (AWS services other than
// S3 encode the already escaped path once more).
func canonicalPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = awsEscape(s)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// awsEscape percent-encodes everything but A-Z a-z 0-9 - _ . ~, as SigV4
// requires (url.QueryEscape writes a space as + and leaves ~ alone
// differently).
func awsEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

func signingKey(secret, day, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(day))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
