package modules

import (
	"context"
	"fmt"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&File{}) }

// File manages a path's existence, kind (file, directory, link) and
// attributes.
type File struct{}

// Spec implements module.Module.
func (*File) Spec() module.Spec {
	return module.Spec{
		Name:  "file",
		Check: module.CheckPredicts,
		Doc:   "Manage files, directories, symlinks and hard links and their mode and ownership",
		Args: append([]module.Arg{
			{Name: "path", Type: module.String, Required: true, Aliases: []string{"dest", "name"}, Doc: "path to manage on the host"},
			{Name: "state", Type: module.String, Choices: []string{"file", "directory", "link", "hard", "absent", "touch"},
				Doc: "what the path should be (default: as it is, or file; directory with recurse; link with src)"},
			{Name: "src", Type: module.String, Doc: "what a link points to (state=link or hard)"},
			{Name: "recurse", Type: module.Bool, Default: false, Doc: "apply mode/owner/group to everything under a directory"},
			{Name: "force", Type: module.Bool, Default: false, Doc: "replace an existing file by a link, or link to a missing src"},
			{Name: "follow", Type: module.Bool, Default: true, Doc: "apply attributes to the target of an existing symlink"},
		}, attrArgs()...),
	}
}

const fileScript = `
if [ -L "$p" ]; then cur=link
elif [ -d "$p" ]; then cur=directory
elif [ -e "$p" ]; then
  if [ "$(stat -c %h "$p")" -gt 1 ]; then cur=hard; else cur=file; fi
else cur=absent; fi
target=$p
if [ "$cur" = link ] && [ "$FOLLOW" = 1 ]; then target=$(readlink -f "$p"); fi
shown=$cur
if [ -z "$state" ]; then
  case $cur in
  absent|hard) state=file ;;
  link) if [ -d "$target" ]; then state=directory; else state=file; fi; shown=$state ;;
  *) state=$cur ;;
  esac
  [ "$cur" = hard ] && shown=file
fi
[ "$state" = hard ] && [ "$cur" = hard ] && shown=hard
say before "$shown"
say state "$state"
changed=0
case $state in
absent)
  if [ "$cur" != absent ]; then changed=1; [ "$CHECK" = 1 ] || rm -rf "$p" || die "cannot remove $p"; fi ;;
file)
  [ "$cur" = absent ] && die "file ($p) is absent, cannot continue"
  [ "$cur" = directory ] && die "$p is a directory, not a file"
  [ -d "$target" ] && die "$p is a directory, not a file"
  attrs "$target" "$mode" "$owner" "$group" ;;
touch)
  changed=1
  if [ "$CHECK" = 0 ]; then touch "$p" || die "cannot touch $p"; fi
  if [ -e "$p" ]; then attrs "$target" "$mode" "$owner" "$group"; fi ;;
directory)
  case $cur in
  absent)
    changed=1
    if [ "$CHECK" = 0 ]; then
      # As Ansible, mode and owner go to every folder made, parents too
      # (top down), not only to the last one.
      made= d=$p
      while [ ! -e "$d" ] && [ ! -L "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do made="$d$nl$made"; d=$(dirname "$d"); done
      mkdir -p "$p" || die "cannot create directory $p"
      IFS=$nl
      for d in $made; do unset IFS; attrs "$d" "$mode" "$owner" "$group"; IFS=$nl; done
      unset IFS
    fi ;;
  directory) attrs "$p" "$mode" "$owner" "$group" ;;
  link)
    [ -d "$target" ] || die "$p exists and is a link to something that is not a directory"
    attrs "$target" "$mode" "$owner" "$group" ;;
  *) die "$p already exists as a file, not a directory" ;;
  esac
  if [ "$RECURSE" = 1 ] && [ -d "$target" ]; then
    if [ "$CHECK" = 1 ]; then
      if [ -n "$owner" ] && [ -n "$(find "$target" ! -user "$owner" -print -quit 2>/dev/null)" ]; then changed=1; fi
      if [ -n "$group" ] && [ -n "$(find "$target" ! -group "$group" -print -quit 2>/dev/null)" ]; then changed=1; fi
      case $mode in [0-7]*) [ -n "$(find "$target" ! -perm "$mode" -print -quit)" ] && changed=1 ;; esac
    else
      snap() { find "$target" -printf '%m %u %g\n' | sha1sum; }
      b=$(snap)
      if [ -n "$owner" ]; then chown -R "$owner" "$target" || die "cannot change the owner under $target"; fi
      if [ -n "$group" ]; then chgrp -R "$group" "$target" || die "cannot change the group under $target"; fi
      if [ -n "$mode" ]; then chmod -R "$mode" "$target" || die "cannot change modes under $target"; fi
      [ "$b" = "$(snap)" ] || changed=1
    fi
  fi ;;
link)
  if [ "$cur" = link ] && [ "$(readlink "$p")" = "$src" ]; then :
  else
    if [ "$FORCE" = 0 ]; then
      case $cur in file|hard) die "refusing to convert from $cur to symlink for $p" ;;
      directory) die "refusing to replace directory $p by a symlink" ;; esac
      (cd "$(dirname "$p")" && [ -e "$src" ]) || die "src file does not exist, use force=yes if you really want to create the link: $src"
    fi
    changed=1
    if [ "$CHECK" = 0 ]; then
      [ "$cur" = directory ] && { rmdir "$p" 2>/dev/null || die "cannot replace non-empty directory $p by a link"; }
      ln -sfn "$src" "$p" || die "cannot create link $p"
    fi
  fi
  if [ -L "$p" ]; then attrs "$p" "" "$owner" "$group"; fi ;;
hard)
  [ -e "$src" ] || die "src file does not exist: $src"
  if [ "$p" -ef "$src" ]; then :
  else
    if [ "$cur" != absent ] && [ "$FORCE" = 0 ]; then die "Cannot link: $p already exists; use force=yes to replace it"; fi
    changed=1
    [ "$CHECK" = 1 ] || ln -f "$src" "$p" || die "cannot create hard link $p"
  fi
  if [ -e "$p" ]; then attrs "$p" "$mode" "$owner" "$group"; fi ;;
esac
say changed "$changed"
`

// Run implements module.Module.
func (*File) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p := args.String("path")
	state := args.String("state")
	if state == "" {
		switch {
		case args.Bool("recurse"):
			state = "directory"
		case args.Has("src"):
			state = "link"
		}
	}
	if (state == "link" || state == "hard") && !args.Has("src") {
		return nil, fmt.Errorf("src is required for state=%s", state)
	}
	if args.Bool("recurse") && state != "directory" {
		return nil, fmt.Errorf("recurse needs state=directory")
	}
	s := newScript(rt).set("p", p).set("state", state).set("src", args.String("src")).
		set("mode", normMode(args.String("mode"))).set("owner", args.String("owner")).set("group", args.String("group")).
		setb("RECURSE", args.Bool("recurse")).setb("FORCE", args.Bool("force")).setb("FOLLOW", args.Bool("follow"))
	s.line(fileScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	before, after := r.get("before"), r.get("state")
	res := &module.Result{Changed: r.flag("changed"), Data: map[string]any{"path": p, "state": after}}
	if args.Has("src") {
		res.Data["src"] = args.String("src")
	}
	if before != after && after != "touch" {
		res.Diff = append(res.Diff, module.Diff{BeforeHeader: p, AfterHeader: p,
			Before: fmt.Sprintf("path: %s\nstate: %s\n", p, before), After: fmt.Sprintf("path: %s\nstate: %s\n", p, after)})
	}
	if d, ok := attrDiff(r, p); ok {
		res.Changed = true
		if before != "absent" {
			res.Diff = append(res.Diff, d)
		}
	}
	if !rt.Diff || !res.Changed {
		res.Diff = nil
	}
	return res, nil
}

var _ module.Module = (*File)(nil)
