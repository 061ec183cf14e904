package modules

import (
	"context"
	"fmt"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Package{}) }

// Package is the generic package front-end: on the Debian hosts tpago
// supports it is apt, with the arguments every package manager shares.
type Package struct{}

// Spec implements module.Module.
func (*Package) Spec() module.Spec {
	return module.Spec{
		Name:  "package",
		Check: module.CheckPredicts,
		Doc:   "Install, upgrade or remove packages with the host's package manager (apt on Debian)",
		Args: []module.Arg{
			{Name: "name", Type: module.List, Required: true, Aliases: []string{"pkg"}, Doc: "packages (name or name=version)"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "installed", "latest", "absent", "removed"},
				Doc: "present/installed: installed; latest: at the newest version; absent/removed: not installed"},
			{Name: "use", Type: module.String, Default: "auto", Choices: []string{"auto", "apt"},
				Doc: "package manager to use; auto is the host's (apt: tpago's hosts are Debian)"},
		},
	}
}

// Run implements module.Module.
func (*Package) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	switch args.String("use") {
	case "auto", "apt":
	default:
		return nil, fmt.Errorf("use: %s is not supported", args.String("use"))
	}
	_, spec, _ := module.Lookup("apt")
	aargs, err := spec.Normalize(map[string]any{"name": args.List("name"), "state": args.String("state")})
	if err != nil {
		return nil, err
	}
	return runApt(ctx, rt, aargs, "package")
}
