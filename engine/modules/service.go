package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&Systemd{})
	module.Register(&Service{})
}

// Systemd manages systemd units with systemctl.
type Systemd struct{}

// Service is the generic service module; tpago's hosts run systemd, so it
// is systemd under another name, with the service module's arguments.
type Service struct{}

func serviceArgs() []module.Arg {
	return []module.Arg{
		{Name: "name", Type: module.String, Aliases: []string{"service", "unit"}, Doc: "unit name (\".service\" may be left out)"},
		{Name: "state", Type: module.String, Choices: []string{"started", "stopped", "restarted", "reloaded"},
			Doc: "started/stopped: only when needed; restarted/reloaded: always"},
		{Name: "enabled", Type: module.Bool, Doc: "start the unit at boot"},
	}
}

// Spec implements module.Module.
func (*Systemd) Spec() module.Spec {
	return module.Spec{
		Name:    "systemd",
		Check:   module.CheckPredicts,
		Aliases: []string{"systemd_service"},
		Doc:     "Start, stop, restart, reload, enable, disable or mask systemd units",
		Args: append(serviceArgs(),
			module.Arg{Name: "daemon_reload", Type: module.Bool, Default: false, Aliases: []string{"daemon-reload"}, Doc: "run systemctl daemon-reload first"},
			module.Arg{Name: "masked", Type: module.Bool, Doc: "mask (or unmask) the unit"},
			module.Arg{Name: "no_block", Type: module.Bool, Default: false, Doc: "do not wait for start/stop jobs to finish"},
		),
		OneOf: [][]string{{"name", "daemon_reload"}},
	}
}

// Spec implements module.Module.
func (*Service) Spec() module.Spec {
	return module.Spec{
		Name:  "service",
		Check: module.CheckPredicts,
		Doc:   "Start, stop, restart, reload, enable or disable services (through systemd)",
		Args: append(serviceArgs(),
			module.Arg{Name: "sleep", Type: module.Int, Doc: "seconds to wait between stop and start on restart"},
			module.Arg{Name: "arguments", Type: module.String, Aliases: []string{"args"}, Doc: "not supported with systemd (must be empty)"},
		),
		OneOf: [][]string{{"name"}},
	}
}

const serviceScript = `
command -v systemctl >/dev/null || die "systemctl not found: the host does not run systemd"
if [ "$RELOAD" = 1 ]; then
  say daemon_reloaded 1
  [ "$CHECK" = 1 ] || systemctl daemon-reload || die "systemctl daemon-reload failed"
fi
[ -z "$unit" ] && exit 0
why() { systemctl status --no-pager -n 5 "$unit" 2>&1 | tail -n 8 | tr '\n' ' '; }
load=$(systemctl show -p LoadState --value "$unit" 2>/dev/null)
if [ "$load" = not-found ] && [ "$masked" != 1 ]; then die "Could not find the requested service $unit"; fi
active=$(systemctl is-active "$unit" 2>/dev/null)
enabled=$(systemctl is-enabled "$unit" 2>/dev/null)
say active_before "$active"
say enabled_before "$enabled"
if [ "$masked" = 1 ] && [ "$enabled" != masked ]; then
  say masked_changed 1; enabled=masked
  [ "$CHECK" = 1 ] || { e=$(systemctl mask "$unit" 2>&1) || die "Unable to mask $unit: $e"; }
elif [ "$masked" = 0 ] && [ "$enabled" = masked ]; then
  say masked_changed 1; enabled=disabled
  [ "$CHECK" = 1 ] || { e=$(systemctl unmask "$unit" 2>&1) || die "Unable to unmask $unit: $e"; }
  [ "$CHECK" = 1 ] || enabled=$(systemctl is-enabled "$unit" 2>/dev/null)
fi
case $want_enabled:$enabled in
1:enabled|1:enabled-runtime|1:static|1:alias|1:indirect|1:generated|1:transient) ;;
1:masked) die "Unable to enable $unit: it is masked" ;;
1:*)
  say enabled_changed 1; enabled=enabled
  [ "$CHECK" = 1 ] || { e=$(systemctl enable "$unit" 2>&1) || die "Unable to enable service $unit: $e"; } ;;
0:enabled|0:enabled-runtime)
  say enabled_changed 1; enabled=disabled
  [ "$CHECK" = 1 ] || { e=$(systemctl disable "$unit" 2>&1) || die "Unable to disable service $unit: $e"; } ;;
esac
say enabled_after "$enabled"
case $state:$active in
started:active|started:reloading|stopped:inactive|stopped:failed|stopped:unknown|stopped:"") ;;
started:*)
  say state_changed 1; active=active
  [ "$CHECK" = 1 ] || systemctl start $noblock "$unit" || die "Unable to start service $unit: $(why)" ;;
stopped:*)
  say state_changed 1; active=inactive
  [ "$CHECK" = 1 ] || systemctl stop $noblock "$unit" || die "Unable to stop service $unit: $(why)" ;;
restarted:*)
  say state_changed 1; active=active
  if [ "$CHECK" = 0 ]; then
    if [ -n "$pause" ]; then systemctl stop "$unit"; sleep "$pause"; fi
    systemctl restart $noblock "$unit" || die "Unable to restart service $unit: $(why)"
  fi ;;
reloaded:*)
  say state_changed 1
  if [ "$CHECK" = 0 ]; then
    if [ "$active" = active ]; then systemctl reload-or-restart $noblock "$unit" || die "Unable to reload service $unit: $(why)"
    else systemctl start $noblock "$unit" || die "Unable to start service $unit: $(why)"; fi
  fi
  active=active ;;
esac
say active_after "$active"
`

func runService(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	unit := args.String("name")
	triState := func(k string) string {
		if !args.Has(k) {
			return ""
		}
		if args.Bool(k) {
			return "1"
		}
		return "0"
	}
	noblock := ""
	if args.Bool("no_block") {
		noblock = "--no-block"
	}
	pause := ""
	if args.Has("sleep") {
		pause = fmt.Sprint(args.Int("sleep"))
	}
	s := newScript(rt).set("unit", unit).set("state", args.String("state")).set("want_enabled", triState("enabled")).
		set("masked", triState("masked")).setb("RELOAD", args.Bool("daemon_reload")).set("noblock", noblock).set("pause", pause)
	s.line(serviceScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Data: map[string]any{"name": unit}}
	if unit == "" {
		return res, nil // a daemon-reload alone changes no unit's state
	}
	res.Changed = r.flag("state_changed") || r.flag("enabled_changed") || r.flag("masked_changed")
	after := r.get("active_after")
	switch after {
	case "active", "reloading", "activating":
		res.Data["state"] = "started"
	default:
		res.Data["state"] = "stopped"
	}
	res.Data["enabled"] = r.get("enabled_after") == "enabled"
	res.Data["status"] = map[string]any{"ActiveState": after, "UnitFileState": r.get("enabled_after")}
	if res.Changed && rt.Diff {
		res.Diff = []module.Diff{{BeforeHeader: unit, AfterHeader: unit,
			Before: fmt.Sprintf("state: %s\nenabled: %s\n", orNone(r.get("active_before")), orNone(r.get("enabled_before"))),
			After:  fmt.Sprintf("state: %s\nenabled: %s\n", orNone(after), orNone(r.get("enabled_after")))}}
	}
	return res, nil
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "unknown"
	}
	return s
}

// Run implements module.Module.
func (*Systemd) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	return runService(ctx, rt, args)
}

// Run implements module.Module.
func (*Service) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	if args.String("arguments") != "" {
		return nil, fmt.Errorf("arguments: not supported for systemd services")
	}
	return runService(ctx, rt, args)
}

var (
	_ module.Module = (*Systemd)(nil)
	_ module.Module = (*Service)(nil)
)
