package modules

import (
	"context"
	"fmt"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&WaitFor{}) }

// WaitFor waits on the host for a port, a file or a string in a file.
type WaitFor struct{}

// Spec implements module.Module.
func (*WaitFor) Spec() module.Spec {
	return module.Spec{
		Name: "wait_for",
		Doc:  "Wait, on the host, until a TCP port opens or closes, or a file appears, disappears or holds a string",
		Args: []module.Arg{
			{Name: "host", Type: module.String, Default: "127.0.0.1", Doc: "address to probe, from the host"},
			{Name: "port", Type: module.Int, Doc: "TCP port to wait for"},
			{Name: "path", Type: module.String, Doc: "file to wait for"},
			{Name: "state", Type: module.String, Default: "started", Choices: []string{"started", "stopped", "present", "absent", "drained"},
				Doc: "started/present: open or existing; stopped/absent: closed or gone; drained: no established connections"},
			{Name: "search_regex", Type: module.String, Doc: "extended regexp to find in the file, or in what the port sends"},
			{Name: "timeout", Type: module.Int, Default: 300, Doc: "seconds to wait before failing"},
			{Name: "delay", Type: module.Int, Default: 0, Doc: "seconds to wait before the first check"},
			{Name: "sleep", Type: module.Int, Default: 1, Doc: "seconds between checks"},
			{Name: "connect_timeout", Type: module.Int, Default: 5, Doc: "seconds to wait for a connection before calling it closed"},
			{Name: "msg", Type: module.String, Doc: "message on timeout instead of the default"},
		},
		Exclusive: [][]string{{"port", "path"}},
		Check:     module.CheckReadOnly,
	}
}

const waitForScript = `
[ "$delay" -gt 0 ] && sleep "$delay"
start=$(date +%s)
end=$((start + timeout))
probe() {
  if [ -n "$re" ]; then
    timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$1/$2" && timeout 2 cat <&3' _ "$host" "$port" 2>/dev/null | grep -Eq -- "$re"
  else
    timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
  fi
}
cond() {
  if [ -n "$port" ]; then
    case $state in
    started|present) probe ;;
    stopped|absent) ! timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null ;;
    drained) [ -z "$(ss -Htn state established "( sport = :$port )" 2>/dev/null)" ] ;;
    esac
  elif [ -n "$path" ]; then
    case $state in
    started|present) [ -e "$path" ] && { [ -z "$re" ] || grep -Eq -- "$re" "$path" 2>/dev/null; } ;;
    *) [ ! -e "$path" ] ;;
    esac
  else
    sleep "$timeout"; true
  fi
}
if [ -n "$port" ]; then
  command -v bash >/dev/null || die "wait_for needs bash on the host to probe ports"
  [ "$state" = drained ] && { command -v ss >/dev/null || die "wait_for state=drained needs ss (iproute2) on the host"; }
fi
while :; do
  if cond; then say elapsed $(($(date +%s) - start)); exit 0; fi
  [ "$(date +%s)" -ge "$end" ] && { say elapsed $(($(date +%s) - start)); die "$msg"; }
  sleep "$sleep"
done
`

// Run implements module.Module.
func (*WaitFor) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	state := args.String("state")
	port, path := "", args.String("path")
	if args.Has("port") {
		port = fmt.Sprint(args.Int("port"))
	}
	if state == "drained" && port == "" {
		return nil, fmt.Errorf("state=drained needs port")
	}
	msg := args.String("msg")
	if msg == "" {
		switch {
		case port != "" && args.Has("search_regex"):
			msg = fmt.Sprintf("Timeout when waiting for search string %s in %s:%s", args.String("search_regex"), args.String("host"), port)
		case port != "":
			msg = fmt.Sprintf("Timeout when waiting for %s:%s", args.String("host"), port)
		case path != "" && args.Has("search_regex"):
			msg = fmt.Sprintf("Timeout when waiting for search string %s in %s", args.String("search_regex"), path)
		case path != "" && (state == "absent" || state == "stopped"):
			msg = fmt.Sprintf("Timeout when waiting for %s to be absent.", path)
		default:
			msg = fmt.Sprintf("Timeout when waiting for file %s", path)
		}
	}
	s := newScript(rt).set("host", args.String("host")).set("port", port).set("path", path).set("state", state).
		set("re", args.String("search_regex")).set("timeout", fmt.Sprint(args.Int("timeout"))).set("delay", fmt.Sprint(args.Int("delay"))).
		set("sleep", fmt.Sprint(max(args.Int("sleep"), 1))).set("ct", fmt.Sprint(max(args.Int("connect_timeout"), 1))).set("msg", msg)
	s.line(waitForScript)
	r, _, err := run(ctx, rt, s)
	data := map[string]any{"state": state, "elapsed": r.int("elapsed")}
	if port != "" {
		data["port"] = args.Int("port")
	}
	if path != "" {
		data["path"] = path
	}
	if err != nil {
		if r != nil && r.has("fail") {
			return &module.Result{Failed: true, Msg: r.get("fail"), Data: data}, nil
		}
		return nil, err
	}
	return &module.Result{Data: data}, nil
}

var _ module.Module = (*WaitFor)(nil)
