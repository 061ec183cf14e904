package modules

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&PamLimits{}) }

// PamLimits sets one limit in a limits.conf file.
type PamLimits struct{}

// Spec implements module.Module.
func (*PamLimits) Spec() module.Spec {
	return module.Spec{
		Name:  "pam_limits",
		Check: module.CheckPredicts,
		Doc:   "Set a PAM limit (domain, type, item, value) in /etc/security/limits.conf or another limits file, editing the line in place",
		Args: []module.Arg{
			{Name: "domain", Type: module.String, Required: true, Doc: "a user name, @group, wildcard (*) or uid/gid range"},
			{Name: "limit_type", Type: module.String, Required: true, Choices: []string{"soft", "hard", "-"}, Doc: "soft, hard, or - for both"},
			{Name: "limit_item", Type: module.String, Required: true, Choices: pamLimitItems, Doc: "the limit to set"},
			{Name: "value", Type: module.String, Required: true, Doc: "a number, or unlimited, infinity or -1 (priority and nice take negative numbers)"},
			{Name: "use_max", Type: module.Bool, Default: false, Doc: "keep the file's value when it is higher than value"},
			{Name: "use_min", Type: module.Bool, Default: false, Doc: "keep the file's value when it is lower than value"},
			{Name: "comment", Type: module.String, Default: "", Doc: "comment written at the end of the limit's line"},
			{Name: "dest", Type: module.String, Default: "/etc/security/limits.conf", Doc: "the limits file (created when missing)"},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "keep a timestamped copy of the file before changing it"},
		},
	}
}

var pamLimitItems = []string{"core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as",
	"maxlogins", "maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot"}

// pamUnlimited reports whether a limits.conf value means no limit.
func pamUnlimited(v string) bool { return v == "unlimited" || v == "infinity" || v == "-1" }

// pamPick is the value use_max/use_min keep, of the file's old and the
// wanted new one.
func pamPick(old, want string, useMax, useMin bool) string {
	if !useMax && !useMin {
		return want
	}
	ou, wu := pamUnlimited(old), pamUnlimited(want)
	if ou || wu {
		if ou == wu {
			return old
		}
		if useMax == ou {
			return old
		}
		return want
	}
	o, err1 := strconv.Atoi(old)
	w, err2 := strconv.Atoi(want)
	if err1 != nil || err2 != nil {
		return want
	}
	if (useMax && o > w) || (useMin && o < w) {
		return old
	}
	return want
}

// pamLimitsEdit sets the limit in a limits.conf content: every line of the
// same domain, type and item is rewritten, or the limit is added at the
// end.
func pamLimitsEdit(old, domain, typ, item, value, comment string, useMax, useMin bool) string {
	format := func(v string) string {
		l := domain + "\t" + typ + "\t" + item + "\t" + v
		if comment != "" {
			l += "\t#" + comment
		}
		return l + "\n"
	}
	var out strings.Builder
	found := false
	for _, l := range splitLines([]byte(old)) {
		body := l
		if i := strings.IndexByte(body, '#'); i >= 0 {
			body = body[:i]
		}
		f := strings.Fields(body)
		if len(f) == 4 && f[0] == domain && f[1] == typ && f[2] == item {
			found = true
			v := pamPick(f[3], value, useMax, useMin)
			// As Ansible, a line with the value already stays as it is,
			// its comment too.
			if v == f[3] {
				out.WriteString(l)
				if !strings.HasSuffix(l, "\n") {
					out.WriteString("\n")
				}
				continue
			}
			out.WriteString(format(v))
			continue
		}
		out.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			out.WriteString("\n")
		}
	}
	if !found {
		out.WriteString(format(value))
	}
	return out.String()
}

// Run implements module.Module.
func (*PamLimits) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	domain, typ, item := args.String("domain"), args.String("limit_type"), args.String("limit_item")
	value := strings.TrimSpace(args.String("value"))
	if domain == "" || strings.ContainsAny(domain, " \t\n#") {
		return nil, fmt.Errorf("domain: %q is not a limits.conf domain (a user, @group, * or a range)", domain)
	}
	if args.Bool("use_max") && args.Bool("use_min") {
		return nil, fmt.Errorf("use_max and use_min are mutually exclusive")
	}
	if _, err := strconv.Atoi(value); err != nil && !pamUnlimited(value) {
		return nil, fmt.Errorf("value: %q must be a number, unlimited, infinity or -1", value)
	}
	if n, err := strconv.Atoi(value); err == nil && n < -1 && item != "priority" && item != "nice" {
		return nil, fmt.Errorf("value: %s: only priority and nice take negative numbers", value)
	}
	if strings.Contains(args.String("comment"), "\n") {
		return nil, fmt.Errorf("comment: must be one line")
	}
	return editFile(ctx, rt, args, args.String("dest"), true, func(f *remoteFile) ([]byte, string, error) {
		content := pamLimitsEdit(string(f.content), domain, typ, item, value, args.String("comment"), args.Bool("use_max"), args.Bool("use_min"))
		if f.exists && content == string(f.content) {
			return nil, "", nil
		}
		return []byte(content), fmt.Sprintf("%s %s %s set", domain, typ, item), nil
	})
}

var _ module.Module = (*PamLimits)(nil)
