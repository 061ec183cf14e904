package modules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

// The HTTP modules (get_url, uri, unarchive from a URL) run their request
// on the host with python3's urllib, as Ansible does: python3 is on every
// host either manages. The program travels in a here-document and its
// settings in a second one on file descriptor 3, so that nothing of them
// (URL password, headers, body) is on a command line. The password is on
// the settings' second line, as it is, so that the run's secret masking
// recognises it in a -vvv trace.

// pyHTTP is the Python shared by the HTTP modules: reading the settings,
// reporting with @T lines like the shell prelude's say, and one request.
const pyHTTP = `import base64, hashlib, json, os, re, ssl, sys, tempfile, time
import urllib.error, urllib.parse, urllib.request

with os.fdopen(3) as _f:
    C = json.loads(_f.readline())
    PW = _f.readline().rstrip('\n')

def say(k, v):
    sys.stdout.write('@T %s=%s\n' % (k, str(v).replace('\n', ' ')))

def die(msg):
    say('fail', msg)
    sys.stdout.flush()
    sys.exit(1)

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None

class SafeRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, hdrs, newurl):
        if req.get_method() not in ('GET', 'HEAD'):
            return None
        return urllib.request.HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, hdrs, newurl)

def request(url, method='GET', data=None, headers=None):
    """Send one request; returns (response or None, status, reason).
    An HTTP error status is a response; a failure to connect is status -1."""
    h = dict(headers or C.get('headers') or {})
    handlers = []
    if url.lower().startswith('https:'):
        ctx = ssl.create_default_context()
        if not C.get('validate_certs', True):
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=ctx))
    if not C.get('use_proxy', True):
        handlers.append(urllib.request.ProxyHandler({}))
    user = C.get('url_username')
    if user:
        if C.get('force_basic_auth'):
            tok = base64.b64encode(('%s:%s' % (user, PW)).encode()).decode()
            h['Authorization'] = 'Basic ' + tok
        else:
            pm = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            pm.add_password(None, url, user, PW)
            handlers.append(urllib.request.HTTPBasicAuthHandler(pm))
    fr = C.get('follow_redirects', 'safe')
    if fr in ('none', 'no'):
        handlers.append(NoRedirect())
    elif fr == 'safe':
        handlers.append(SafeRedirect())
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        r = opener.open(req, timeout=C.get('timeout', 10))
    except urllib.error.HTTPError as e:
        return e, e.code, e.reason
    except urllib.error.URLError as e:
        return None, -1, 'Request failed: %s' % (e.reason,)
    except (OSError, ValueError) as e:
        return None, -1, 'Request failed: %s' % (e,)
    st = r.status if getattr(r, 'status', None) else 200
    return r, st, getattr(r, 'reason', None) or 'OK'

def digest(path, algo):
    h = hashlib.new(algo)
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 16), b''):
            h.update(b)
    return h.hexdigest()

def save(r, dest_dir, algo, keep):
    """Stream a response into a temporary file in dest_dir (or, when keep is
    false, only hash it). Returns (tmp or None, sha1, algo digest, size)."""
    s1, ha = hashlib.sha1(), hashlib.new(algo or 'sha1')
    n, tmp, f = 0, None, None
    if keep:
        fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix='.tpago-download.')
        f = os.fdopen(fd, 'wb')
    try:
        for b in iter(lambda: r.read(1 << 16), b''):
            s1.update(b)
            ha.update(b)
            n += len(b)
            if f:
                f.write(b)
    except Exception as e:
        if tmp:
            os.unlink(tmp)
        die('Failed to read the response of %s: %s' % (C['url'], e))
    finally:
        if f:
            f.close()
    return tmp, s1.hexdigest(), ha.hexdigest(), n
`

// pyCall is the shell text that runs program (pyHTTP then body) with the
// settings cfg and the secret pw, its report kept in $out (and printed)
// and read back with pv KEY. A failure of the program ends the script.
func pyCall(body string, cfg map[string]any, pw string) (string, error) {
	if strings.ContainsAny(pw, "\r\n") {
		return "", fmt.Errorf("url_password must be one line")
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cfg); err != nil {
		return "", fmt.Errorf("settings for the host: %w", err)
	}
	settings := b.String() + pw + "\n"
	return `command -v python3 >/dev/null 2>&1 || die "python3 is needed on the host for this module (apt: python3)"
out=$(python3 - 3<<'__TPAGO_CFG__' <<'__TPAGO_PY__'
` + settings + `__TPAGO_CFG__
` + pyHTTP + body + `
__TPAGO_PY__
)
rc=$?
printf '%s\n' "$out"
pv() { printf '%s\n' "$out" | sed -n "s/^@T $1=//p" | tail -n 1; }
if [ "$rc" != 0 ]; then [ -n "$(pv fail)" ] || say fail "python3 exited with status $rc"; exit 1; fi`, nil
}

// httpArgs are the connection arguments get_url and uri share.
func httpArgs(timeout int) []module.Arg {
	return []module.Arg{
		{Name: "url", Type: module.String, Required: true, Doc: "http, https, ftp or file URL"},
		{Name: "headers", Type: module.Dict, Doc: "request headers, a mapping"},
		{Name: "timeout", Type: module.Int, Default: timeout, Doc: "seconds to wait for the server"},
		{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "verify the server's TLS certificate"},
		{Name: "url_username", Type: module.String, Aliases: []string{"username"}, Doc: "user name for HTTP basic authentication"},
		{Name: "url_password", Type: module.String, Aliases: []string{"password"}, NoLog: true, Doc: "password for HTTP basic authentication"},
		{Name: "force_basic_auth", Type: module.Bool, Default: false, Doc: "send the basic authentication header with the first request instead of after a 401"},
		{Name: "use_proxy", Type: module.Bool, Default: true, Doc: "use the proxy of the host's environment (http_proxy…)"},
	}
}

// httpRefused are the HTTP arguments of Ansible's modules tpago refuses.
func httpRefused() map[string]string {
	const cert = "client certificates are not supported: use command: curl --cert … --key …"
	return map[string]string{
		"client_cert":          cert,
		"client_key":           cert,
		"ca_path":              "install the CA certificate on the host (/usr/local/share/ca-certificates, update-ca-certificates)",
		"use_gssapi":           "Kerberos authentication is not supported: use command: curl --negotiate",
		"use_netrc":            "give url_username and url_password instead of ~/.netrc",
		"ciphers":              "TLS ciphers cannot be chosen: the host's OpenSSL defaults are used",
		"unredirected_headers": "not supported: headers are sent on redirects as urllib does",
		"unix_socket":          "requests over a Unix socket are not supported: use command: curl --unix-socket",
		"http_agent":           "set the User-Agent in headers",
	}
}

// httpSettings are the settings pyHTTP reads from the arguments.
func httpSettings(args module.Args) map[string]any {
	h := map[string]string{}
	for k, v := range args.Map("headers") {
		h[k] = fmt.Sprint(v)
	}
	return map[string]any{
		"url": args.String("url"), "headers": h, "timeout": args.Int("timeout"),
		"validate_certs": args.Bool("validate_certs"), "url_username": args.String("url_username"),
		"force_basic_auth": args.Bool("force_basic_auth"), "use_proxy": args.Bool("use_proxy"),
	}
}
