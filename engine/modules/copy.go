package modules

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&Copy{})
	module.Register(&Template{})
}

// Copy writes a file on the host from inline content, a file on the control
// machine, or a file already on the host.
type Copy struct{}

// Spec implements module.Module.
func (*Copy) Spec() module.Spec {
	return module.Spec{
		Name:  "copy",
		Check: module.CheckPredicts,
		Doc:   "Copy a file (or inline content) to the host, atomically, with mode and ownership",
		Args: append([]module.Arg{
			{Name: "dest", Type: module.String, Required: true, Doc: "path on the host; a directory (or a path ending in /) receives the file under src's name"},
			{Name: "src", Type: module.String, Doc: "file on the control machine (looked up in the role's files/), or on the host with remote_src"},
			{Name: "content", Type: module.String, Doc: "the file's content, instead of src"},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "keep a timestamped copy of the file being replaced"},
			{Name: "force", Type: module.Bool, Default: true, Aliases: []string{"thirsty"}, Doc: "replace the file when its content differs; with false only create missing files"},
			{Name: "remote_src", Type: module.Bool, Default: false, Doc: "src is a file on the host, not on the control machine"},
			validateArg,
		}, attrArgs()...),
		OneOf:     [][]string{{"src", "content"}},
		Exclusive: [][]string{{"src", "content"}},
	}
}

// Run implements module.Module.
func (*Copy) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	dest := args.String("dest")
	validate, err := checkValidate(args)
	if err != nil {
		return nil, err
	}
	p := &putFile{dest: dest, attrs: args, backup: args.Bool("backup"), keep: !args.Bool("force"), validate: validate}
	switch {
	case args.Has("content"):
		if strings.HasSuffix(dest, "/") {
			return nil, fmt.Errorf("dest %s must be a file when content is given", dest)
		}
		p.content = []byte(args.String("content"))
		p.afterHeader = "dynamically generated"
	case args.Bool("remote_src"):
		src := args.String("src")
		p.remoteSrc = src
		p.srcBase = path.Base(src)
		if strings.HasSuffix(dest, "/") {
			p.dest, p.mkdir = dest+path.Base(src), true
		}
	default:
		src := args.String("src")
		local, err := find(rt, "files", src)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(local)
		if err != nil {
			return nil, fmt.Errorf("src %s: %w", src, err)
		}
		if fi.IsDir() {
			return copyTree(ctx, rt, args, local, dest)
		}
		data, err := os.ReadFile(local)
		if err != nil {
			return nil, fmt.Errorf("src %s: %w", src, err)
		}
		p.content = data
		p.srcBase = filepath.Base(local)
		p.afterHeader = local
		if strings.HasSuffix(dest, "/") {
			p.dest, p.mkdir = dest+p.srcBase, true
		}
	}
	return p.run(ctx, rt)
}

// copyTree copies a local directory to the host in one script. Like
// Ansible, "dir" copies the directory itself into dest and "dir/" copies its
// content.
func copyTree(ctx context.Context, rt *module.Runtime, args module.Args, local, dest string) (*module.Result, error) {
	root := strings.TrimSuffix(dest, "/")
	if !strings.HasSuffix(args.String("src"), "/") {
		root = path.Join(root, filepath.Base(local))
	}
	var files []*putFile
	err := filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(local, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, &putFile{dest: path.Join(root, filepath.ToSlash(rel)), content: data, attrs: args,
			backup: args.Bool("backup"), keep: !args.Bool("force"), mkdir: true, afterHeader: p, validate: args.String("validate")})
		return nil
	})
	if err != nil {
		return nil, err
	}
	s := newScript(rt)
	for i, f := range files {
		s.linef("say file %d", i)
		s.line("(")
		f.body(s)
		s.line(") || exit 1")
	}
	out, err := rt.Remote.Run(ctx, s.String())
	if err != nil {
		return nil, err
	}
	secs := parseSections(out.Stdout)
	if out.RC != 0 {
		msg := ""
		if len(secs) > 0 {
			msg = secs[len(secs)-1].get("fail")
		}
		return nil, &scriptError{msg: msg, rc: out.RC, stderr: string(out.Stderr)}
	}
	if len(secs) != len(files) {
		return nil, fmt.Errorf("copy %s: the host reported %d files out of %d", local, len(secs), len(files))
	}
	res := &module.Result{Data: map[string]any{"dest": root}}
	for i, f := range files {
		r := f.result(rt, secs[i])
		res.Changed = res.Changed || r.Changed
		res.Diff = append(res.Diff, r.Diff...)
	}
	return res, nil
}

// find locates a control-machine file through the runtime.
func find(rt *module.Runtime, kind, name string) (string, error) {
	if rt.Find == nil {
		return name, nil
	}
	p, err := rt.Find(kind, name)
	if err != nil {
		return "", err
	}
	return p, nil
}

// Template renders a template from the control machine and writes the
// result on the host like copy does.
type Template struct{}

// Spec implements module.Module.
func (*Template) Spec() module.Spec {
	return module.Spec{
		Name:  "template",
		Check: module.CheckPredicts,
		Doc:   "Render a Jinja-shaped template on the control machine and write it to the host",
		Args: append([]module.Arg{
			{Name: "src", Type: module.String, Required: true, Doc: "template file (looked up in the role's templates/)"},
			{Name: "dest", Type: module.String, Required: true, Doc: "path on the host"},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "keep a timestamped copy of the file being replaced"},
			{Name: "force", Type: module.Bool, Default: true, Doc: "replace the file when its content differs; with false only create missing files"},
			validateArg,
		}, attrArgs()...),
	}
}

// Run implements module.Module.
func (*Template) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	src := args.String("src")
	local, err := find(rt, "templates", src)
	if err != nil {
		return nil, err
	}
	text, err := os.ReadFile(local)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", src, err)
	}
	out := string(text)
	if rt.Render != nil {
		if out, err = rt.Render(local, out); err != nil {
			return nil, err
		}
	}
	dest := args.String("dest")
	validate, err := checkValidate(args)
	if err != nil {
		return nil, err
	}
	p := &putFile{dest: dest, content: []byte(out), srcBase: strings.TrimSuffix(filepath.Base(local), ".j2"),
		attrs: args, backup: args.Bool("backup"), keep: !args.Bool("force"), afterHeader: local, validate: validate}
	if strings.HasSuffix(dest, "/") {
		p.dest, p.mkdir = dest+p.srcBase, true
	}
	return p.run(ctx, rt)
}

var (
	_ module.Module = (*Copy)(nil)
	_ module.Module = (*Template)(nil)
)
