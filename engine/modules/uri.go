package modules

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&URI{}) }

// URI sends an HTTP request from the host and returns the response.
type URI struct{}

// Spec implements module.Module.
func (*URI) Spec() module.Spec {
	args := append(httpArgs(30),
		module.Arg{Name: "method", Type: module.String, Default: "GET", Doc: "HTTP method (GET, POST, PUT, DELETE, HEAD, PATCH…)"},
		module.Arg{Name: "body", Type: module.Any, Doc: "request body: a string, or with body_format json or form-urlencoded a mapping (or list, for json)"},
		module.Arg{Name: "body_format", Type: module.String, Default: "raw", Choices: []string{"raw", "json", "form-urlencoded"},
			Doc: "how body is encoded; json and form-urlencoded set the Content-Type header unless headers do"},
		module.Arg{Name: "status_code", Type: module.List, Default: []any{200}, Doc: "the statuses that are success; any other fails the task"},
		module.Arg{Name: "return_content", Type: module.Bool, Default: false, Doc: "return the body as content (a JSON body is returned as json in any case)"},
		module.Arg{Name: "follow_redirects", Type: module.String, Default: "safe", Choices: []string{"all", "safe", "none", "urllib2", "yes", "no"},
			Doc: "safe: follow redirects of GET and HEAD only; all/urllib2/yes: follow them as urllib does; none/no: never"},
		module.Arg{Name: "dest", Type: module.String, Doc: "write the body to this file on the host (changed when its content changes)"},
		module.Arg{Name: "creates", Type: module.String, Doc: "do not send the request when this path exists on the host"},
		module.Arg{Name: "removes", Type: module.String, Doc: "do not send the request unless this path exists on the host"},
	)
	refused := httpRefused()
	refused["src"] = "put the file's content in body (lookup('file', …)), or send it with command: curl --data-binary @FILE"
	refused["remote_src"] = "send the file with command: curl --data-binary @FILE"
	refused["decompress"] = "not supported: the body is returned as the server sends it"
	refused["use_netrc"] = "give url_username and url_password instead of ~/.netrc"
	return module.Spec{
		Name:    "uri",
		Check:   module.CheckPredicts,
		Doc:     "Send an HTTP request from the host (python3's urllib) and return the status, headers and body; changed only when dest is written",
		Args:    append(args, attrArgs()...),
		Refused: refused,
	}
}

const pyURI = `
check, dest = C['check'], C.get('dest') and os.path.expanduser(C['dest'])
if C.get('creates') and os.path.exists(os.path.expanduser(C['creates'])):
    say('skipped', "skipped, since %s exists" % C['creates'])
    sys.exit(0)
if C.get('removes') and not os.path.exists(os.path.expanduser(C['removes'])):
    say('skipped', "skipped, since %s does not exist" % C['removes'])
    sys.exit(0)
if dest and not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
    die('Destination dir %s does not exist' % os.path.dirname(os.path.abspath(dest)))
body = base64.b64decode(C['body']) if C.get('body') is not None else None
t0 = time.time()
r, st, why = request(C['url'], C['method'], body)
say('elapsed', int(time.time() - t0))
say('status', st)
if r is None:
    say('msg', why)
    sys.exit(0)
say('url', r.geturl() or C['url'])
say('redirected', 1 if (r.geturl() or C['url']) != C['url'] else 0)
hdrs = {}
for k, v in r.headers.items():
    k = k.replace('-', '_').lower()
    hdrs[k] = hdrs[k] + ', ' + v if k in hdrs else v
say('headers', json.dumps(hdrs))
if dest and 200 <= st < 300:
    old = digest(dest, 'sha1') if os.path.isfile(dest) else None
    tmp, sha1, _, n = save(r, os.path.dirname(os.path.abspath(dest)), None, not check)
    say('msg', 'OK (%d bytes)' % n)
    if sha1 != old:
        say('changed', 1)
        if tmp:
            say('tmp', tmp)
    elif tmp:
        os.unlink(tmp)
    sys.exit(0)
try:
    data = r.read()
except Exception as e:
    data = b''
say('msg', '%s (%d bytes)' % (why if st >= 400 else 'OK', len(data)))
say('content64', base64.b64encode(data).decode())
`

// uriBody encodes the body argument as body_format says, and returns the
// Content-Type it implies.
func uriBody(args module.Args) (body []byte, ctype string, err error) {
	v, ok := args["body"]
	if !ok || v == nil {
		return nil, "", nil
	}
	switch args.String("body_format") {
	case "json":
		if s, ok := v.(string); ok {
			return []byte(s), "application/json", nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, "", fmt.Errorf("body: cannot be encoded as JSON: %w", err)
		}
		return b, "application/json", nil
	case "form-urlencoded":
		switch x := v.(type) {
		case string:
			return []byte(x), "application/x-www-form-urlencoded", nil
		case map[string]any:
			vals := url.Values{}
			for k, e := range x {
				if l, ok := e.([]any); ok {
					for _, i := range l {
						vals.Add(k, fmt.Sprint(i))
					}
				} else {
					vals.Add(k, fmt.Sprint(e))
				}
			}
			return []byte(vals.Encode()), "application/x-www-form-urlencoded", nil
		}
		return nil, "", fmt.Errorf("body: with body_format form-urlencoded, body must be a mapping or a string")
	}
	switch x := v.(type) {
	case string:
		return []byte(x), "", nil
	case map[string]any, []any:
		return nil, "", fmt.Errorf("body: a mapping or list needs body_format json or form-urlencoded")
	default:
		return []byte(fmt.Sprint(x)), "", nil
	}
}

// Run implements module.Module.
func (*URI) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	method := strings.ToUpper(args.String("method"))
	var codes []int
	for _, c := range args.List("status_code") {
		n, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(c)))
		if err != nil {
			return nil, fmt.Errorf("status_code: %q is not a number", fmt.Sprint(c))
		}
		codes = append(codes, n)
	}
	body, ctype, err := uriBody(args)
	if err != nil {
		return nil, err
	}
	dest := args.String("dest")
	if rt.Check && method != "GET" && method != "HEAD" {
		// A request that may change the server is not sent in check mode;
		// only reads are, and a dest is compared, not written.
		return &module.Result{Skipped: true, Msg: fmt.Sprintf("a %s request is not sent in check mode", method)}, nil
	}
	cfg := httpSettings(args)
	hdrs := cfg["headers"].(map[string]string)
	if ctype != "" && !hasHeader(hdrs, "Content-Type") {
		hdrs["Content-Type"] = ctype
	}
	cfg["method"], cfg["check"], cfg["dest"] = method, rt.Check, dest
	cfg["creates"], cfg["removes"] = args.String("creates"), args.String("removes")
	cfg["follow_redirects"] = args.String("follow_redirects")
	if body != nil {
		cfg["body"] = base64.StdEncoding.EncodeToString(body)
	}
	call, err := pyCall(pyURI, cfg, args.String("url_password"))
	if err != nil {
		return nil, err
	}
	s := newScript(rt)
	s.line(call)
	if dest != "" {
		s.set("dest", dest)
		s.line(`tmp=$(pv tmp)
if [ -n "$tmp" ]; then
  trap 'rm -f "$tmp"' EXIT
  if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp"; chown --reference="$dest" "$tmp" 2>/dev/null
  else chmod 0644 "$tmp"; fi
  ` + attrsCall(`"$tmp"`, args) + `
  mv -f "$tmp" "$dest" || die "cannot replace $dest"
  trap - EXIT
elif [ -e "$dest" ] && [ -z "$(pv skipped)" ]; then
  ` + attrsCall(`"$dest"`, args) + `
fi
true`)
	}
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	if r.has("skipped") {
		return &module.Result{Msg: r.get("skipped"), Data: map[string]any{"stdout": r.get("skipped")}}, nil
	}
	return uriResult(rt, args, r, codes, dest)
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// uriResult builds uri's result as Ansible's: the response headers as
// top-level keys (lowercased, - as _), status, url, msg, content when asked
// for, json when the body is JSON; a status not in codes fails the task.
func uriResult(rt *module.Runtime, args module.Args, r kv, codes []int, dest string) (*module.Result, error) {
	status := r.int("status")
	res := &module.Result{Data: map[string]any{}}
	if h := r.get("headers"); h != "" {
		var hdrs map[string]any
		if err := json.Unmarshal([]byte(h), &hdrs); err != nil {
			return nil, fmt.Errorf("uri: bad headers from the host: %w", err)
		}
		for k, v := range hdrs {
			res.Data[k] = v
		}
	}
	res.Data["status"] = status
	res.Data["url"] = args.String("url")
	if r.has("url") {
		res.Data["url"] = r.get("url")
	}
	res.Data["redirected"] = r.flag("redirected")
	res.Data["elapsed"] = r.int("elapsed")
	res.Data["msg"] = r.get("msg")
	res.Msg = r.get("msg")
	if dest != "" {
		res.Data["path"] = dest
	}
	if r.has("content64") {
		raw, err := r.bytes("content64")
		if err != nil {
			return nil, fmt.Errorf("uri: bad body from the host: %w", err)
		}
		if args.Bool("return_content") {
			res.Data["content"] = string(raw)
		}
		ct, _ := res.Data["content_type"].(string)
		if strings.Contains(strings.ToLower(ct), "json") && len(raw) > 0 {
			var js any
			if err := decodeJSON(raw, &js); err == nil {
				res.Data["json"] = js
			}
		}
	}
	res.Changed = r.flag("changed")
	if d, ok := attrDiff(r, dest); ok {
		res.Changed = true
		if rt.Diff {
			res.Diff = append(res.Diff, d)
		}
	}
	if res.Changed && rt.Diff && r.flag("changed") {
		res.Diff = append(res.Diff, stateDiff(dest, "(previous content)", "(response of "+args.String("url")+")"))
	}
	ok := false
	for _, c := range codes {
		ok = ok || c == status
	}
	if !ok {
		sorted := append([]int(nil), codes...)
		sort.Ints(sorted)
		res.Failed = true
		res.Msg = fmt.Sprintf("Status code was %d and not %v: %s", status, sorted, r.get("msg"))
		res.Data["msg"] = res.Msg
	}
	return res, nil
}

var _ module.Module = (*URI)(nil)
