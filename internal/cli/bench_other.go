//go:build !unix

package cli

// maxRSS is not measured where getrusage does not exist.
func maxRSS() string { return "not measured on this system" }
