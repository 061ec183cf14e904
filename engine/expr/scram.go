package expr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"golang.org/x/crypto/pbkdf2"
)

// ScramIterations is the PBKDF2 iteration count Postgres uses by default.
const ScramIterations = 4096

// ScramSHA256 returns the SCRAM-SHA-256 verifier Postgres stores for
// password, as CREATE ROLE ... PASSWORD would compute it, but with a salt
// derived from saltSeed and password (HMAC-SHA256, first 16 bytes) instead
// of a random one, so that every run produces the same string.
func ScramSHA256(password, saltSeed string) string {
	mac := hmac.New(sha256.New, []byte(saltSeed))
	mac.Write([]byte(password))
	salt := mac.Sum(nil)[:16]
	return ScramVerifier(password, salt, ScramIterations)
}

// ScramVerifier is the SCRAM-SHA-256 verifier of password with the given
// salt and PBKDF2 iteration count, in the form Postgres stores in
// pg_authid.rolpassword.
func ScramVerifier(password string, salt []byte, iterations int) string {
	salted := pbkdf2.Key([]byte(password), salt, iterations, sha256.Size, sha256.New)
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(iterations) + ":" + b64(salt) + "$" + b64(storedKey[:]) + ":" + b64(serverKey)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
