package expr

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
)

// hashFuncs registers hashes and password verifiers.
func hashFuncs(r *registry) {
	add, addN := r.add, r.addN
	add("sha256", "sha256(s)", "hex SHA-256 of s", str1("sha256", func(s string) any { v, _ := hashString("sha256", s, "sha256"); return v }))
	add("sha1", "sha1(s)", "hex SHA-1 of s", str1("sha1", func(s string) any { v, _ := hashString("sha1", s, "sha1"); return v }))
	add("md5", "md5(s)", "hex MD5 of s", str1("md5", func(s string) any { v, _ := hashString("md5", s, "md5"); return v }))
	addN("hash", "hash(s, [alg])", "hex digest of s with md5, sha1 (default), sha256 or sha512", 1, 2, func(a ...any) (any, error) {
		alg := "sha1"
		if len(a) > 1 {
			alg = str(a[1])
		}
		return hashString("hash", str(a[0]), alg)
	})
	addN("password_scram", "password_scram(password, salt_seed)", "a Postgres SCRAM-SHA-256 verifier for password, with a salt derived from salt_seed so that it is the same on every run", 2, 2, func(a ...any) (any, error) {
		return ScramSHA256(str(a[0]), str(a[1])), nil
	})
}

func hashString(name, s, alg string) (any, error) {
	var h hash.Hash
	switch strings.ToLower(alg) {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return nil, argErr(name, "unknown hash %q (md5, sha1, sha256, sha512)", alg)
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}
